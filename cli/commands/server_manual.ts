/**
 * `tunnel server manual`: reads a client's offer, checks its source against the
 * allowlists, prints an answer, punches through with ICE and serves that one
 * session over QUIC pinned to a fresh key.
 * @module
 */
import { Command } from "commander";
import { constantTimeEqual } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { IceAgent } from "../../core/nat/mod.ts";
import {
  decodeOffer,
  encodeAnswer,
  manualCredential,
  newAnswerSecret,
  OFFER_LABEL,
} from "../../core/signaling/mod.ts";
import { listenQuic } from "../../core/transport/mod.ts";
import {
  type AllowList,
  ALPN,
  checkSourceRequest,
  deadline,
  serveConnection,
  serverLimits,
  SessionLimiter,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import { readBlock } from "../block_input.ts";
import type { Config } from "../config.ts";
import { shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { modeHelp } from "./mode_help.ts";
import {
  ICE_TIMEOUT_MS,
  type IceFlags,
  iceOptions,
  type IceSettings,
  iceSettings,
  printPath,
} from "./ice_options.ts";
import {
  type AllowedNetworkFlags,
  allowedNetworkOptions,
  type ConfigFlags,
  configOptions,
  loadModeConfig,
  resolveAllowedNetworks,
  type VerboseFlag,
  verboseOption,
} from "./shared_flags.ts";

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
    .option("--offer-file <file>", "read the offer from this file (waits for it) instead of stdin");
  return verboseOption(command).action(async (flags: ServerManualFlags) => {
    const config = await loadModeConfig(flags, "server", "manual");
    await runServerManual(resolveServerManualSettings(flags, config), new Output(flags.verbose));
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
  const { allowedTcp, allowedUdp } = resolveAllowedNetworks(flags, file.allowed_sources);
  return {
    allowedTcp,
    allowedUdp,
    ice: iceSettings(flags, file.stun_servers),
    offerFile: flags.offerFile,
  };
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
  console.error("Paste the client's offer:");
  const offer = await decodeOffer(await readBlock(OFFER_LABEL, settings.offerFile));
  const check = { ...settings, resolve: systemResolver };
  const decision = await checkSourceRequest(offer.source, check);
  if (!decision.accepted) {
    out.info(
      await encodeAnswer({ accepted: false, sessionId: offer.sessionId, reason: decision.reason }),
    );
    throw new Error(
      `Refused source ${offer.source}: ${decision.reason} (the answer above tells the client)`,
    );
  }
  let agent: IceAgent | undefined = await IceAgent.gather({ role: "controlled", ...settings.ice });
  try {
    const key = SecretKey.generate();
    const answerSecret = newAnswerSecret();
    console.error(`Source ${offer.source} allowed. Paste this answer into the client within 25 s:`);
    out.info(
      await encodeAnswer({
        accepted: true,
        sessionId: offer.sessionId,
        serverKey: key.endpointId.bytes,
        answerSecret,
        credentials: agent.localCredentials,
        candidates: agent.localCandidates,
      }),
    );
    const path = await agent.connect(offer, { timeoutMs: ICE_TIMEOUT_MS });
    printPath(out, path);
    await path.release();
    agent = undefined;
    const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
    const listener = listenQuic({ endpoint, secretKey: key, alpn: ALPN });
    try {
      const conn = await deadline(
        listener.accept(),
        ICE_TIMEOUT_MS,
        "the client did not connect over QUIC in time",
      );
      if (!conn) throw new Error("the listener closed before the client connected");
      const expected = manualCredential(offer, answerSecret);
      const limits = serverLimits(out);
      const session = serveConnection(conn, {
        authenticate: (credential) => constantTimeEqual(expected, credential),
        allowedTcp: settings.allowedTcp,
        allowedUdp: settings.allowedUdp,
        resolve: systemResolver,
        sessions: new SessionLimiter(1),
        log: out,
        label: "session",
        ...limits,
      });
      session.finally(() => limits.warnings.close());
      const outcome = await Promise.race([session.then(() => "done"), shutdownSignal()]);
      if (outcome !== "done") {
        out.info("Shutting down");
        conn.close();
      }
      await session;
    } finally {
      listener.close();
    }
  } finally {
    await agent?.close();
  }
}
