/**
 * `tunnel server manual`: reads a client's offer, checks its source against the
 * allowlists, prints an answer, punches through with ICE and serves that one
 * session over QUIC pinned to a fresh key.
 * @module
 */
import { Command } from "commander";
import { constantTimeEqual } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { acceptOverIce } from "../../core/connect/mod.ts";
import {
  AllowList,
  ALPN,
  checkRequest,
  forwardingServices,
  serveConnection,
  serverLimits,
  SessionLimiter,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import { ManualServerChannel } from "../manual_channel.ts";
import { loadConfig } from "../config.ts";
import { pick, repeatable, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { configOptions, resolveConfigPath } from "./config_options.ts";
import { modeHelp } from "./mode_help.ts";
import { type IceFlags, iceOptions, iceSettings, printPath, withIceAdvice } from "./ice_options.ts";

interface ServerManualFlags extends IceFlags {
  config?: string;
  defaultConfig?: boolean;
  allowedTcp?: string[];
  allowedUdp?: string[];
  offerFile?: string;
  verbose?: boolean;
}

/** Defines the command. */
export function serverManualCommand(): Command {
  return iceOptions(modeHelp(configOptions(new Command("manual")), "server", "manual"))
    .description(
      "ICE with copy-paste signaling: paste the client's offer, print an answer (one session)",
    )
    .addOption(
      repeatable("--allowed-tcp <cidr>", "allowed TCP networks in CIDR notation (repeatable)"),
    )
    .addOption(
      repeatable("--allowed-udp <cidr>", "allowed UDP networks in CIDR notation (repeatable)"),
    )
    .option("--offer-file <file>", "read the offer from this file (waits for it) instead of stdin")
    .option("-v, --verbose", "show more detail")
    .action(async (flags: ServerManualFlags) => {
      const path = resolveConfigPath(flags, "server");
      const file = (path ? (await loadConfig(path, "server", "manual")).values : {}) as Record<
        string,
        any
      >;
      const sources = (file.allowed_sources ?? {}) as { tcp?: string[]; udp?: string[] };
      const allowedTcp = asUsageError(() =>
        new AllowList(pick(flags.allowedTcp, sources.tcp) ?? [])
      );
      const allowedUdp = asUsageError(() =>
        new AllowList(pick(flags.allowedUdp, sources.udp) ?? [])
      );
      if (allowedTcp.networks.length === 0 && allowedUdp.networks.length === 0) {
        throw new UsageError(
          "No allowed networks: pass --allowed-tcp and/or --allowed-udp (e.g. --allowed-tcp 127.0.0.0/8)",
        );
      }
      await runServerManual({
        allowedTcp,
        allowedUdp,
        ice: iceSettings(flags, file.stun_servers),
        offerFile: flags.offerFile,
      }, new Output(flags.verbose));
    });
}

/** Serves one manual-mode session. */
export async function runServerManual(
  settings: {
    allowedTcp: AllowList;
    allowedUdp: AllowList;
    ice: { stunServers: string[]; hostAddresses?: string[] };
    offerFile?: string;
  },
  out: Output,
): Promise<void> {
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
  const conn = await acceptOverIce({
    channel,
    ...settings.ice,
    alpn: ALPN,
    secretKey: SecretKey.generate(),
    onPath: (path) => printPath(out, path),
  }).catch((error) => {
    throw withIceAdvice(error);
  });
  const expected = channel.credential();
  const session = serveConnection(conn, {
    authenticate: (credential) => constantTimeEqual(expected, credential),
    services,
    sessions: new SessionLimiter(1),
    log: out,
    label: "session",
    warnings: limits.warnings,
  });
  const outcome = await Promise.race([session.then(() => "done"), shutdownSignal()]);
  if (outcome !== "done") {
    out.info("Shutting down");
    conn.close();
  }
  await session;
  limits.warnings.close();
}
