/**
 * `tunnel server [iroh]`: accepts authenticated clients over key-pinned QUIC and
 * forwards each to the source it asks for, within the allowed networks.
 * @module
 */
import { Command, Option } from "commander";
import { type AllowList, forwardingServices, systemResolver } from "../../core/tunnel/mod.ts";
import type { Config } from "../config.ts";
import { readEnvSetting } from "../env.ts";
import { positiveInteger, repeatable } from "../options.ts";
import { Output } from "../output.ts";
import { modeHelp } from "../settings/mode_help.ts";
import { iceOptions } from "../settings/ice_options.ts";
import { portMappingOption } from "../settings/iroh_ice.ts";
import { irohPathOptions } from "../settings/iroh_paths.ts";
import {
  DEFAULT_MAX_SESSIONS,
  type IrohServerSettings,
  resolveIrohServerSettings,
  type ServerIrohEnv,
  type ServerIrohFlags,
} from "../settings/iroh_server_settings.ts";
import {
  allowedNetworkOptions,
  configOptions,
  loadModeConfig,
  resolveAllowedNetworks,
  verboseOption,
} from "../settings/shared_flags.ts";
import { runIrohServer } from "../run/iroh_server.ts";

/** Everything the server needs, checked. */
export interface ServerIrohSettings extends IrohServerSettings {
  allowedTcp: AllowList;
  allowedUdp: AllowList;
}

/** Defines the command. */
export function serverIrohCommand(): Command {
  const command = modeHelp(configOptions(new Command("iroh")), "server", "iroh")
    .description("accept clients by EndpointId and forward them to allowed sources (default mode)");
  allowedNetworkOptions(command)
    .addOption(repeatable("--auth-tokens <token>", "accepted authentication token (repeatable)"))
    .option("--auth-tokens-file <file>", "file of accepted tokens, one per line, # comments")
    .option(
      "--authorized-keys <file>",
      "file of accepted client public keys, one per line with a comment (see generate-client-key)",
    )
    .addOption(
      new Option(
        "--max-sessions <n>",
        `maximum concurrent sessions (default ${DEFAULT_MAX_SESSIONS})`,
      )
        .argParser(positiveInteger("--max-sessions")),
    )
    .option("--secret <base64>", "secret key for a persistent identity (base64)")
    .option("--secret-file <file>", "file holding the secret key (see generate-server-key)")
    .option("--bind <host:port>", "address to listen on (default all interfaces, random port)")
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)");
  return verboseOption(
    portMappingOption(
      iceOptions(irohPathOptions(command, "server"), "the relays' own, on port 3478"),
      "server",
    ),
  ).action(
    async (flags: ServerIrohFlags) => {
      const config = await loadModeConfig(flags, "server", "iroh");
      await runServerIroh(
        await resolveServerIrohSettings(flags, config, {
          authTokens: readEnvSetting("TUNNEL_AUTH_TOKENS"),
          relayToken: readEnvSetting("TUNNEL_RELAY_TOKEN"),
        }),
        new Output(flags.verbose),
      );
    },
  );
}

/**
 * Merges CLI flags over the environment over config values and checks them.
 * @throws {UsageError} naming the first bad or missing setting.
 * @throws {Error} when a file it names cannot be read.
 */
export async function resolveServerIrohSettings(
  flags: ServerIrohFlags,
  config?: Config<"server", "iroh">,
  env: ServerIrohEnv = {},
): Promise<ServerIrohSettings> {
  return {
    ...await resolveIrohServerSettings(flags, config, env),
    ...resolveAllowedNetworks(flags, config),
  };
}

/** Runs the server until Ctrl-C. */
export async function runServerIroh(settings: ServerIrohSettings, out: Output): Promise<void> {
  out.debug(
    `allowed TCP: ${settings.allowedTcp.networks.map((n) => n.text).join(", ") || "none"}; ` +
      `allowed UDP: ${settings.allowedUdp.networks.map((n) => n.text).join(", ") || "none"}; ` +
      `max sessions: ${settings.maxSessions}`,
  );
  await runIrohServer(settings, out, (limits) =>
    forwardingServices({
      allowedTcp: settings.allowedTcp,
      allowedUdp: settings.allowedUdp,
      resolve: systemResolver,
      processTcpStreams: limits.processTcpStreams,
      processUdpFlows: limits.processUdpFlows,
    }));
}
