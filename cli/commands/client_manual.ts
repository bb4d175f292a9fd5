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
  type parseSource,
  type Source,
} from "../../core/tunnel/mod.ts";
import { readBlock } from "../block_input.ts";
import type { Config } from "../config.ts";
import { pick } from "../options.ts";
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
import { bindTarget, forwardUntilDone } from "./local_target.ts";
import {
  type ConfigFlags,
  configOptions,
  type ForwardFlags,
  forwardOptions,
  loadModeConfig,
  parseSourceSetting,
  parseTargetSetting,
  requireSetting,
  type VerboseFlag,
  verboseOption,
} from "./shared_flags.ts";

/** The command line of `tunnel client manual`, as commander parses it. */
export interface ClientManualFlags extends ConfigFlags, IceFlags, ForwardFlags, VerboseFlag {
  answerFile?: string;
}

/** Everything `client manual` needs, checked. */
export interface ClientManualSettings {
  source: Source;
  target: { host: string; port: number };
  ice: IceSettings;
  /** Where to read the answer; standard input when undefined. */
  answerFile?: string;
}

/** Defines the command. */
export function clientManualCommand(): Command {
  const command = iceOptions(modeHelp(configOptions(new Command("manual")), "client", "manual"))
    .description("ICE with copy-paste signaling: print an offer, paste the server's answer");
  forwardOptions(command)
    .option(
      "--answer-file <file>",
      "read the answer from this file (waits for it) instead of stdin",
    );
  return verboseOption(command).action(async (flags: ClientManualFlags) => {
    const config = await loadModeConfig(flags, "client", "manual");
    await runClientManual(resolveClientManualSettings(flags, config), new Output(flags.verbose));
  });
}

/**
 * Merges CLI flags over config values and checks them.
 * @throws {UsageError} naming the first bad or missing setting.
 */
export function resolveClientManualSettings(
  flags: ClientManualFlags,
  config?: Config<"client", "manual">,
): ClientManualSettings {
  const file = config?.values ?? {};
  // Both missing settings are named before either value is parsed.
  const sourceText = requireSetting(
    pick(flags.source, file.request_source),
    "--source",
    "request_source",
  );
  const targetText = requireSetting(pick(flags.target, file.target), "--target", "target");
  return {
    source: parseSourceSetting(sourceText),
    target: parseTargetSetting(targetText),
    ice: iceSettings(flags, file.stun_servers),
    answerFile: flags.answerFile,
  };
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
