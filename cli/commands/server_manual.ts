/**
 * `tunnel server manual`: reads a client's offer, checks its source against the
 * allowlists, prints an answer, punches through with ICE and serves that one
 * session over QUIC pinned to a fresh key.
 * @module
 */
import { GOODBYE_LINGER_MS, SHUTDOWN_CLOSE } from "../../core/endpoint/mod.ts";
import { Command } from "commander";
import { constantTimeEqual } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { acceptOverIce } from "../../core/connect/mod.ts";
import {
  type AllowList,
  ALPN,
  checkRequest,
  forwardingServices,
  serverLimits,
  SessionHost,
  SessionLimiter,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import { ManualServerChannel } from "../manual_channel.ts";
import type { Config } from "../config.ts";
import { shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { modeHelp } from "../settings/mode_help.ts";
import {
  type IceFlags,
  iceOptions,
  type IceSettings,
  iceSettings,
  printPath,
  slowGatheringLine,
} from "../settings/ice_options.ts";
import { checkBlockFile } from "../block_input.ts";
import { explainServerIceFailure } from "../manual_expiry.ts";
import {
  type AllowedNetworkFlags,
  allowedNetworkOptions,
  type ConfigFlags,
  configOptions,
  loadModeConfig,
  resolveAllowedNetworks,
  type VerboseFlag,
  verboseOption,
} from "../settings/shared_flags.ts";

/** The command line of `tunnel server manual`, as commander parses it. */
export interface ServerManualFlags extends ConfigFlags, IceFlags, AllowedNetworkFlags, VerboseFlag {
  offerFile?: string;
}

/** Everything `server manual` needs, checked. */
export interface ServerManualSettings {
  allowedTcp: AllowList;
  allowedUdp: AllowList;
  ice: IceSettings;
  /** Where to read the offer; standard input when undefined. */
  offerFile?: string;
}

/** Defines the command. */
export function serverManualCommand(): Command {
  const command = iceOptions(modeHelp(configOptions(new Command("manual")), "server", "manual"))
    .description(
      "ICE with copy-paste signaling: paste the client's offer, print an answer (one session)",
    );
  allowedNetworkOptions(command)
    .option(
      "--offer-file <file>",
      "read the offer from this file instead of stdin (waits up to 10 minutes for it to appear)",
    );
  return verboseOption(command).action(async (flags: ServerManualFlags) => {
    const config = await loadModeConfig(flags, "server", "manual");
    const settings = resolveServerManualSettings(flags, config);
    if (settings.offerFile !== undefined) await checkBlockFile(settings.offerFile, "--offer-file");
    await runServerManual(settings, new Output(flags.verbose));
  });
}

/**
 * Merges CLI flags over config values and checks them.
 * @throws {UsageError} naming the first bad or missing setting.
 */
export function resolveServerManualSettings(
  flags: ServerManualFlags,
  config?: Config<"server", "manual">,
): ServerManualSettings {
  const file = config?.values ?? {};
  const { allowedTcp, allowedUdp } = resolveAllowedNetworks(flags, config);
  return {
    allowedTcp,
    allowedUdp,
    ice: iceSettings(flags, file.stun_servers),
    offerFile: flags.offerFile,
  };
}

/**
 * Serves one manual-mode session. Ctrl-C or SIGTERM at any point (waiting for
 * the offer included) prints `Shutting down` and returns.
 */
export async function runServerManual(
  settings: ServerManualSettings,
  out: Output,
): Promise<void> {
  const shutdown = shutdownSignal();
  const limits = serverLimits(out);
  const services = forwardingServices({
    allowedTcp: settings.allowedTcp,
    allowedUdp: settings.allowedUdp,
    resolve: systemResolver,
    processTcpStreams: limits.processTcpStreams,
    processUdpFlows: limits.processUdpFlows,
  });
  const channel = new ManualServerChannel(out, async (source) => {
    const { decision } = await checkRequest(services, source);
    return decision.accepted ? undefined : decision.reason;
  }, settings.offerFile);
  const accepting = acceptOverIce({
    channel,
    ...settings.ice,
    alpn: ALPN,
    secretKey: SecretKey.generate(),
    onPath: (path) => printPath(out, path),
    onSlowGathering: () => out.info(slowGatheringLine(settings.ice)),
  }).catch((error) => {
    throw explainServerIceFailure(error);
  });
  const conn = await Promise.race([accepting, shutdown.then(() => undefined)]);
  if (conn === undefined) {
    out.info("Shutting down");
    // The attempt is abandoned (an offer that never comes does not end); a connection it still makes is closed.
    accepting.then((late) => late.close(), () => {});
    limits.warnings.close();
    return;
  }
  const expected = channel.credential();
  const host = new SessionHost({
    services,
    sessions: new SessionLimiter(1),
    log: out,
    warnings: limits.warnings,
  });
  const session = host.serve(
    conn,
    (credential) => constantTimeEqual(expected, credential),
    "session",
  );
  const outcome = await Promise.race([session.then(() => "done"), shutdown]);
  if (outcome !== "done") {
    out.info("Shutting down");
    // The client hears why at once, instead of after its idle timeout.
    conn.close(SHUTDOWN_CLOSE);
    await new Promise((resolve) => setTimeout(resolve, GOODBYE_LINGER_MS));
  }
  await session;
  limits.warnings.close();
}
