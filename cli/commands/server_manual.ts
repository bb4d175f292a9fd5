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
  AllowList,
  ALPN,
  checkSourceRequest,
  deadline,
  serveConnection,
  serverLimits,
  SessionLimiter,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import { readBlock } from "../block_input.ts";
import { loadConfig } from "../config.ts";
import { pick, repeatable, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { configOptions, resolveConfigPath } from "./config_options.ts";
import { modeHelp } from "./mode_help.ts";
import {
  ICE_TIMEOUT_MS,
  type IceFlags,
  iceOptions,
  iceSettings,
  printPath,
} from "./ice_options.ts";

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
