/**
 * `tunnel client manual`: ICE hole punching with copy-paste signaling. Prints an
 * offer, reads the server's answer, punches through, and serves the source locally.
 * @module
 */
import { Command } from "commander";
import { EndpointId } from "../../core/identity/mod.ts";
import { IceAgent } from "../../core/nat/mod.ts";
import {
  ANSWER_LABEL,
  decodeAnswer,
  encodeOffer,
  manualCredential,
  newOfferSecrets,
} from "../../core/signaling/mod.ts";
import { dialQuic } from "../../core/transport/mod.ts";
import {
  ALPN,
  formatSource,
  openClientSession,
  parseHostPort,
  parseSource,
} from "../../core/tunnel/mod.ts";
import { readBlock } from "../block_input.ts";
import { loadConfig } from "../config.ts";
import { pick } from "../options.ts";
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
import { bindTarget, forwardUntilDone } from "./local_target.ts";

interface ClientManualFlags extends IceFlags {
  config?: string;
  defaultConfig?: boolean;
  source?: string;
  target?: string;
  answerFile?: string;
  verbose?: boolean;
}

/** Defines the command. */
export function clientManualCommand(): Command {
  return iceOptions(modeHelp(configOptions(new Command("manual")), "client", "manual"))
    .description("ICE with copy-paste signaling: print an offer, paste the server's answer")
    .option("-s, --source <url>", "source to request: tcp://host:port or udp://host:port")
    .option("-t, --target <host:port>", "local address to listen on")
    .option(
      "--answer-file <file>",
      "read the answer from this file (waits for it) instead of stdin",
    )
    .option("-v, --verbose", "show more detail")
    .action(async (flags: ClientManualFlags) => {
      const path = resolveConfigPath(flags, "client");
      const file = (path ? (await loadConfig(path, "client", "manual")).values : {}) as Record<
        string,
        any
      >;
      const sourceText = pick<string>(flags.source, file.request_source);
      const targetText = pick<string>(flags.target, file.target);
      if (sourceText === undefined) {
        throw new UsageError("Missing --source (or 'request_source' in the config file)");
      }
      if (targetText === undefined) {
        throw new UsageError("Missing --target (or 'target' in the config file)");
      }
      await runClientManual({
        source: asUsageError(() => parseSource(sourceText)),
        target: asUsageError(() => parseHostPort(targetText, "--target address")),
        ice: iceSettings(flags, file.stun_servers),
        answerFile: flags.answerFile,
      }, new Output(flags.verbose));
    });
}

/** Runs one manual-mode client session. */
export async function runClientManual(
  settings: {
    source: ReturnType<typeof parseSource>;
    target: { host: string; port: number };
    ice: { stunServers: string[]; hostAddresses?: string[] };
    answerFile?: string;
  },
  out: Output,
): Promise<void> {
  const local = bindTarget(settings.source.protocol, settings.target);
  let agent: IceAgent | undefined;
  try {
    agent = await IceAgent.gather({ role: "controlling", ...settings.ice });
    const secrets = newOfferSecrets();
    const offer = await encodeOffer({
      ...secrets,
      source: formatSource(settings.source),
      credentials: agent.localCredentials,
      candidates: agent.localCandidates,
    });
    console.error("Send this offer to the server, then paste its answer here:");
    out.info(offer);
    const answer = await decodeAnswer(await readBlock(ANSWER_LABEL, settings.answerFile), secrets);
    if (!answer.accepted) {
      throw new Error(`server refused source ${formatSource(settings.source)}: ${answer.reason}`);
    }
    const path = await agent.connect(answer, { timeoutMs: ICE_TIMEOUT_MS });
    printPath(out, path);
    await path.release();
    agent = undefined;
    const endpoint = new Deno.QuicEndpoint({ hostname: path.bindAddress, port: path.bindPort });
    const conn = await dialQuic({
      addrs: [{ hostname: path.remote.address, port: path.remote.port }],
      endpointId: new EndpointId(answer.serverKey),
      alpn: ALPN,
      endpoint,
    });
    const session = await openClientSession(
      conn,
      manualCredential(secrets, answer.answerSecret),
      settings.source,
    );
    out.info(`Tunnel ready: ${local.address} -> ${formatSource(settings.source)}`);
    await forwardUntilDone(session, local, out);
  } finally {
    local.close();
    await agent?.close();
  }
}
