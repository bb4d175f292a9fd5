/**
 * `tunnel client manual`: ICE hole punching with copy-paste signaling. Prints an
 * offer, reads the server's answer, punches through, and serves the source locally.
 * @module
 */
import { Command } from "commander";
import { dialOverIce } from "../../core/connect/mod.ts";
import {
  ALPN,
  formatSource,
  openClientSession,
  singleSession,
  type Source,
} from "../../core/tunnel/mod.ts";
import { ManualClientChannel } from "../manual_channel.ts";
import type { Config } from "../config.ts";
import { pick } from "../options.ts";
import { Output } from "../output.ts";
import { modeHelp } from "./mode_help.ts";
import {
  type IceFlags,
  iceOptions,
  type IceSettings,
  iceSettings,
  printPath,
  withIceAdvice,
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
  settings: ClientManualSettings,
  out: Output,
): Promise<void> {
  const local = bindTarget(settings.source.protocol, settings.target);
  try {
    const channel = new ManualClientChannel(
      formatSource(settings.source),
      out,
      settings.answerFile,
    );
    const conn = await dialOverIce({
      channel,
      ...settings.ice,
      alpn: ALPN,
      onPath: (path) => printPath(out, path),
    }).catch((error) => {
      throw withIceAdvice(error);
    });
    const session = await openClientSession(conn, channel.credential(), settings.source);
    out.info(`Tunnel ready: ${local.address} -> ${formatSource(settings.source)}`);
    // One-shot signaling: there is no way to reconnect, so losing the session ends the client.
    await forwardUntilDone(singleSession(session), local, out);
  } finally {
    local.close();
  }
}
