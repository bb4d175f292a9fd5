/**
 * `tunnel server [iroh]`: accepts authenticated clients over key-pinned QUIC and
 * forwards each to the source it asks for, within the allowed networks.
 * @module
 */
import { Command, Option } from "commander";
import { parseTokensFile, tokenFormatError, TokenSet } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { startEndpointServer } from "../../core/endpoint/mod.ts";
import { RelayRefusedError } from "../../core/relay/mod.ts";
import {
  type AllowList,
  formatHostPort,
  forwardingServices,
  parseHostPort,
  type ServerLimits,
  type ServerServices,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import type { Config, ModeConfig } from "../config.ts";
import { type EnvSetting, readEnvSetting, unreadableHint } from "../env.ts";
import { pick, positiveInteger, repeatable, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { MAX_LIST_FILE_BYTES, readUserFile } from "../user_file.ts";
import { modeHelp } from "./mode_help.ts";
import { parseStatusAddress, serveStatus, type StatusDocument } from "../status_endpoint.ts";
import { loadSecretKey } from "./server_key_commands.ts";
import { type IceFlags, iceOptions, iceSettings } from "./ice_options.ts";
import { irohIce, type IrohIceSettings } from "./iroh_upgrade.ts";
import {
  type IrohPathFlags,
  irohPathOptions,
  PUBLIC_RELAY_URLS,
  resolveIrohPaths,
} from "./iroh_paths.ts";
import { relayRefusalMessage, type RelayToken, resolveRelayToken } from "./relay_token.ts";
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

/** Default `--max-sessions`. */
export const DEFAULT_MAX_SESSIONS = 100;

/** The command line of `tunnel server [iroh]`, as commander parses it. */
export interface ServerIrohFlags
  extends ConfigFlags, AllowedNetworkFlags, IrohPathFlags, IceFlags, VerboseFlag {
  authTokens?: string[];
  authTokensFile?: string;
  maxSessions?: number;
  secret?: string;
  secretFile?: string;
  bind?: string;
  status?: string;
}

/** Everything the server needs, checked. */
export interface ServerIrohSettings extends IrohServerSettings {
  allowedTcp: AllowList;
  allowedUdp: AllowList;
}

/** What any server reached by EndpointId needs, whatever its sessions carry (forwarding, VPN). */
export interface IrohServerSettings {
  secretKey: SecretKey;
  freshKey: boolean;
  tokens: TokenSet;
  maxSessions: number;
  bind: { host: string; port: number };
  /** Relays to be reachable at (the first is the home relay). */
  relayUrls: string[];
  /** No relay named: the fastest of iroh's public relays is the home relay. */
  publicRelays: boolean;
  /** Reachable only through relays: the QUIC listener stays on loopback. */
  relayOnly: boolean;
  /** The pkarr relay discovery records are published to (none: no record). */
  dnsServer?: string;
  /** The access token of the named relays (and a pkarr relay at their origin). */
  relayToken?: RelayToken;
  /** How to gather ICE candidates when a client punches a direct path. */
  ice: IrohIceSettings;
  /** Where to serve the status view (loopback), when asked. */
  status?: { host: string; port: number };
}

/** Defines the command. */
export function serverIrohCommand(): Command {
  const command = modeHelp(configOptions(new Command("iroh")), "server", "iroh")
    .description("accept clients by EndpointId and forward them to allowed sources (default mode)");
  allowedNetworkOptions(command)
    .addOption(repeatable("--auth-tokens <token>", "accepted authentication token (repeatable)"))
    .option("--auth-tokens-file <file>", "file of accepted tokens, one per line, # comments")
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
    iceOptions(irohPathOptions(command, "server"), "the relays' own, on port 3478"),
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

/** The environment's part in the settings: `TUNNEL_AUTH_TOKENS`, `TUNNEL_RELAY_TOKEN`. */
export interface ServerIrohEnv {
  authTokens?: EnvSetting;
  relayToken?: EnvSetting;
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
  const file = config?.values ?? {};
  return {
    ...await resolveIrohServerSettings(flags, config, env),
    ...resolveAllowedNetworks(flags, file.allowed_sources),
  };
}

/** The command line of any server reached by EndpointId. */
export type IrohServerFlags = Omit<ServerIrohFlags, keyof AllowedNetworkFlags>;

/**
 * The settings every server reached by EndpointId shares, from flags over the
 * environment over config values.
 * @throws {UsageError} naming the first bad or missing setting.
 */
export async function resolveIrohServerSettings(
  flags: IrohServerFlags,
  config?: Config<"server", "iroh">,
  env: ServerIrohEnv = {},
): Promise<IrohServerSettings> {
  const file = config?.values ?? {};

  let secretKey: SecretKey | undefined;
  if (flags.secret !== undefined && flags.secretFile !== undefined) {
    throw new UsageError("Use either --secret or --secret-file, not both");
  }
  if (flags.secret !== undefined) secretKey = asUsageError(() => SecretKey.parse(flags.secret!));
  else if (flags.secretFile !== undefined) secretKey = await loadSecretKey(flags.secretFile);
  else if (file.secret !== undefined) secretKey = asUsageError(() => SecretKey.parse(file.secret!));
  else if (file.secret_file !== undefined) secretKey = await loadSecretKey(file.secret_file);

  const tokens = await resolveTokens(flags, env, file, config?.path);
  const maxSessions = pick(flags.maxSessions, file.max_sessions) ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new UsageError(`Invalid max_sessions ${maxSessions}: must be a positive integer`);
  }
  const bindText = pick(flags.bind, file.bind);
  const paths = resolveIrohPaths(flags, file, config?.path);
  const relayToken = await resolveRelayToken(
    flags,
    env.relayToken,
    file,
    config?.path,
    paths.relayUrls,
  );
  if (paths.relayOnly && bindText !== undefined) {
    throw new UsageError("--relay-only offers no direct address: drop --bind (or 'bind')");
  }
  const ice = iceSettings(flags, file.stun_servers, []);
  const stunNamed = flags.stun === false || (flags.stunServer ?? file.stun_servers) !== undefined;
  return {
    status: flags.status === undefined ? undefined : parseStatusAddress(flags.status),
    ...paths,
    relayToken,
    ice: irohIce(ice, stunNamed),
    secretKey: secretKey ?? SecretKey.generate(),
    freshKey: secretKey === undefined,
    tokens,
    maxSessions,
    bind: paths.relayOnly
      ? { host: "127.0.0.1", port: 0 }
      : bindText === undefined
      ? { host: "::", port: 0 }
      : asUsageError(() => parseHostPort(bindText, "--bind address")),
  };
}

/**
 * The accepted tokens, from the first of: the command line (`--auth-tokens`,
 * `--auth-tokens-file`), `TUNNEL_AUTH_TOKENS`, the config file. A source
 * replaces the ones after it, like every other setting.
 */
async function resolveTokens(
  flags: IrohServerFlags,
  env: ServerIrohEnv,
  file: ModeConfig<"server", "iroh">,
  configPath: string | undefined,
): Promise<TokenSet> {
  const tokens: string[] = [];
  const fromList = (list: string[], where: string) => {
    for (const token of list) {
      const problem = tokenFormatError(token.trim());
      if (problem) {
        throw new UsageError(
          `Invalid auth token in ${where}: ${problem}; generate one with 'tunnel generate-token'`,
        );
      }
      tokens.push(token.trim());
    }
  };
  const fromFile = async (path: string) => {
    const text = await readUserFile(path, "tokens file", MAX_LIST_FILE_BYTES);
    tokens.push(...asUsageError(() => parseTokensFile(text, path)));
  };
  const envTokens = (env.authTokens?.value ?? "").split(/[\s,]+/).filter(Boolean);
  if (flags.authTokens !== undefined || flags.authTokensFile !== undefined) {
    fromList(flags.authTokens ?? [], "--auth-tokens");
    if (flags.authTokensFile !== undefined) await fromFile(flags.authTokensFile);
  } else if (envTokens.length > 0) {
    fromList(envTokens, "TUNNEL_AUTH_TOKENS");
  } else {
    fromList(file.auth_tokens ?? [], `'auth_tokens' of config '${configPath}'`);
    if (file.auth_tokens_file !== undefined) await fromFile(file.auth_tokens_file);
  }
  if (tokens.length === 0) {
    throw new UsageError(
      "No auth tokens configured: generate one with 'tunnel generate-token' and pass " +
        "--auth-tokens TOKEN, --auth-tokens-file FILE or TUNNEL_AUTH_TOKENS" +
        unreadableHint(env.authTokens),
    );
  }
  return new TokenSet(tokens);
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

/**
 * Runs a server reachable by EndpointId (direct, relays, discovery, hole
 * punching; core/endpoint `startEndpointServer`) whose sessions carry what
 * `services` serve, until Ctrl-C.
 */
export async function runIrohServer(
  settings: IrohServerSettings,
  out: Output,
  services: (limits: ServerLimits) => ServerServices,
  options: {
    /** More of the status view (VPN mode's network). */
    status?: () => Pick<StatusDocument, "vpn">;
    /** Told the EndpointId once the server is reachable, before it waits for clients. */
    started?: (endpointId: string) => void;
  } = {},
): Promise<void> {
  let server;
  try {
    server = await startEndpointServer(
      {
        secretKey: settings.secretKey,
        authenticate: (credential) => settings.tokens.has(credential),
        maxSessions: settings.maxSessions,
        bind: settings.bind,
        relayUrls: settings.publicRelays ? [] : settings.relayUrls,
        homeRelayCandidates: settings.publicRelays ? PUBLIC_RELAY_URLS : undefined,
        relayOnly: settings.relayOnly,
        pkarrUrl: settings.dnsServer,
        // Only a relay (or pkarr relay) at a named relay's origin gets its token, never a third party.
        accessTokenFor: (url) => settings.relayToken?.for(url),
        ice: settings.ice,
      },
      services,
      {
        log: out,
        onListening: (directAddrs) => {
          if (settings.freshKey) {
            out.warn(
              "no --secret-file given: using a fresh identity; its EndpointId changes on restart",
            );
          }
          out.info(`EndpointId: ${settings.secretKey.endpointId}`);
          if (settings.relayOnly) out.info("Relay only: no direct address is offered");
          for (const addr of directAddrs) out.info(`Listening on ${addr}`);
          out.info(`Auth tokens: ${settings.tokens.size} token(s) configured`);
        },
        onNoHomeRelay: (fallback) =>
          out.warn(
            `none of iroh's public relays answered; trying ${fallback} in the background (or pass --relay-url, or --no-relay)`,
          ),
        onRelayRefused: (error) => out.warn(`${relayRefusalMessage(error)}; not retrying`),
      },
    );
  } catch (error) {
    if (error instanceof RelayRefusedError) throw new Error(relayRefusalMessage(error));
    throw error;
  }
  options.started?.(settings.secretKey.endpointId.toString());
  out.info("Waiting for clients to connect...");
  const { limits, sessions, registry } = server;
  const statusView = settings.status &&
    serveStatus(settings.status, () => ({
      role: "server",
      endpointId: settings.secretKey.endpointId.toString(),
      sessions: registry.snapshot(),
      pools: {
        unauthenticated: {
          active: limits.unauthenticated.total,
          max: limits.unauthenticated.limits.total,
        },
        sessions: { active: sessions.active, max: sessions.max },
        tcpConnections: {
          active: limits.processTcpStreams.active,
          max: limits.processTcpStreams.max,
        },
        udpFlows: { active: limits.processUdpFlows.active, max: limits.processUdpFlows.max },
      },
      ...options.status?.(),
    }));
  if (statusView) {
    out.info(
      `Status: tunnel status ${formatHostPort(statusView.addr.hostname, statusView.addr.port)}`,
    );
  }
  await shutdownSignal();
  out.info("Shutting down");
  await statusView?.shutdown();
  await server.close();
}
