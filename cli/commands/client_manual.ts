/**
 * `tunnel client manual`: ICE hole punching with copy-paste signaling. Prints an
 * offer, reads the server's answer, punches through, and serves the source locally.
 * @module
 */
import { Command } from "commander";
import { formatSource, type Source } from "../../core/tunnel/mod.ts";
import { ManualClientChannel } from "../manual_channel.ts";
import type { Config } from "../config.ts";
import { pick } from "../options.ts";
import { Output } from "../output.ts";
import { modeHelp } from "../settings/mode_help.ts";
import {
  type IceFlags,
  iceOptions,
  type IceSettings,
  iceSettings,
} from "../settings/ice_options.ts";
import { bindTarget } from "../run/local_target.ts";
import { runIceClient } from "../run/ice_client.ts";
import { checkBlockFile } from "../block_input.ts";
import { explainClientIceFailure } from "../manual_expiry.ts";
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
} from "../settings/shared_flags.ts";

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
      "read the answer from this file instead of stdin (waits up to 10 minutes for it to appear)",
    );
  return verboseOption(command).action(async (flags: ClientManualFlags) => {
    const config = await loadModeConfig(flags, "client", "manual");
    const settings = resolveClientManualSettings(flags, config);
    // Before the offer is printed: an answer file that can never appear ends the run now.
    if (settings.answerFile !== undefined) {
      await checkBlockFile(settings.answerFile, "--answer-file");
    }
    await runClientManual(settings, new Output(flags.verbose));
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
  const source = parseSourceSetting(sourceText);
  return {
    source,
    target: parseTargetSetting(targetText, source),
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
    await runIceClient({
      channel,
      ice: settings.ice,
      source: settings.source,
      local,
      credential: () => channel.credential(),
      explainFailure: (error) => explainClientIceFailure(error, channel.answerDelayMs),
    }, out);
  } finally {
    local.close();
  }
}
