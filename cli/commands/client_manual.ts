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
  parseHostPort,
  parseSource,
} from "../../core/tunnel/mod.ts";
import { ManualClientChannel } from "../manual_channel.ts";
import { loadConfig } from "../config.ts";
import { pick } from "../options.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { configOptions, resolveConfigPath } from "./config_options.ts";
import { modeHelp } from "./mode_help.ts";
import { type IceFlags, iceOptions, iceSettings, printPath, withIceAdvice } from "./ice_options.ts";
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
    await forwardUntilDone(session, local, out);
  } finally {
    local.close();
  }
}
