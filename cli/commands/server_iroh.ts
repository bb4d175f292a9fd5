/**
 * `tunnel server [iroh]`: accepts authenticated clients over key-pinned QUIC and
 * forwards each to the source it asks for, within the allowed networks.
 * @module
 */
import { Command, Option } from "commander";
import { parseTokensFile, tokenFormatError, TokenSet } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { startPublishing } from "../../core/discovery/mod.ts";
import { pickHomeRelay, RelayRefusedError, serveViaRelay } from "../../core/relay/mod.ts";
import {
  congestionControlToward,
  listenQuic,
  type PeerListener,
} from "../../core/transport/mod.ts";
import {
  type AllowList,
  ALPN,
  formatHostPort,
  forwardingServices,
  parseHostPort,
  serveConnection,
  type ServerLimits,
  serverLimits,
  type ServerServices,
  SessionRegistry,
  sharedPool,
  systemResolver,
} from "../../core/tunnel/mod.ts";
import type { Config, ModeConfig } from "../config.ts";
import { dialableAddresses } from "../listen_addresses.ts";
import { type EnvSetting, readEnvSetting, unreadableHint } from "../env.ts";
import { pick, positiveInteger, repeatable, shutdownSignal } from "../options.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { MAX_LIST_FILE_BYTES, readUserFile } from "../user_file.ts";
import { modeHelp } from "./mode_help.ts";
import { parseStatusAddress, serveStatus, type StatusDocument } from "../status_endpoint.ts";
import { loadSecretKey } from "./server_key_commands.ts";
import { type IceFlags, iceOptions, iceSettings } from "./ice_options.ts";
import { irohIce, type IrohIceSettings, upgradeAnswerer } from "./iroh_upgrade.ts";
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

/** How long start-up waits for each relay before going on without it. */
const RELAY_READY_WAIT_MS = 5_000;

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
 * punching) whose sessions carry what `services` serve, until Ctrl-C.
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
  const limits = serverLimits(out);
  let listener: PeerListener;
  try {
    listener = listenQuic({
      hostname: settings.bind.host,
      port: settings.bind.port,
      secretKey: settings.secretKey,
      alpn: ALPN,
      // Its clients come over the paths its address faces (a wildcard: real networks,
      // BBR). The relay shim's connections share the listener: on the emulated WAN
      // (80 ms, server -> client through a relay) BBR on this side moved 7.7 MB/s
      // against 7.2 with the default, and 2.3-2.5 against 1.1-1.4 with 0.5% loss, so
      // they need no listener of their own. docs/BENCHMARKS.md, "Congestion control per path".
      congestionControl: congestionControlToward(settings.bind.host),
      // Handshakes count as unauthenticated connections: while those are at
      // their limit new attempts are refused before they cost a handshake.
      admission: limits.unauthenticated,
      onHandshakeFailed: (address, reason) =>
        limits.warnings.report(
          `handshake: ${reason}`,
          `connection attempt${address ? ` from ${address}` : ""} failed: ${reason}`,
        ),
    });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : (error as Error).message;
    throw new Error(`Cannot listen on ${settings.bind.host}:${settings.bind.port}: ${why}`);
  }
  if (settings.freshKey) {
    out.warn("no --secret-file given: using a fresh identity; its EndpointId changes on restart");
  }
  out.info(`EndpointId: ${settings.secretKey.endpointId}`);
  const skip = settings.ice.avoidAddress ?? (() => false);
  // Addresses of a VPN's own device are left out: a client dialing one through its
  // tunnel would carry the tunnel inside itself.
  const directAddrs = settings.relayOnly
    ? []
    : dialableAddresses(listener.addr).filter((addr) => !skip(hostOf(addr)));
  if (settings.relayOnly) out.info("Relay only: no direct address is offered");
  for (const addr of directAddrs) out.info(`Listening on ${addr}`);
  out.info(`Auth tokens: ${settings.tokens.size} token(s) configured`);
  const wildcard = settings.bind.host === "::" || settings.bind.host === "0.0.0.0";
  let relayUrls = settings.relayUrls;
  if (settings.publicRelays) {
    const home = await pickHomeRelay(PUBLIC_RELAY_URLS);
    if (!home) {
      out.warn(
        `none of iroh's public relays answered; trying ${
          PUBLIC_RELAY_URLS[0]
        } in the background (or pass --relay-url, or --no-relay)`,
      );
    }
    relayUrls = [home ?? PUBLIC_RELAY_URLS[0]];
  }
  // Set once the first publish is under way; relay reconnections republish through it.
  const discovery: { publisher?: ReturnType<typeof startPublishing> } = {};
  // A refusal at start-up ends the server (below); one later is told once, as it happens.
  let started = false;
  const presences = relayUrls.map((url) => {
    out.info(`Relay: ${url}`);
    return serveViaRelay({
      relayUrl: url,
      secretKey: settings.secretKey,
      accessToken: settings.relayToken?.for(url),
      onRefused: (error) => {
        if (started) out.warn(`${relayRefusalMessage(error)}; not retrying`);
      },
      listenerPort: listener.addr.port,
      listenerHostname: wildcard ? undefined : listener.addr.hostname,
      log: { debug: (line) => out.debug(line) },
      onStateChange: (connected) => {
        limits.warnings.report(
          `relay ${url} ${connected}`,
          connected ? `Relay ${url}: connected` : `Relay ${url}: lost, reconnecting`,
        );
        // A restarted pkarr relay (often the same process) has lost our record.
        if (connected) discovery.publisher?.publish();
      },
    });
  });
  // Clients through a relay reach us only once we are there: wait a little for it.
  const refusals: RelayRefusedError[] = [];
  await Promise.all(
    presences.map((presence, i) =>
      presence.relay.ready(RELAY_READY_WAIT_MS).catch((error) => {
        if (error instanceof RelayRefusedError) {
          // Refused access is a setting to fix, not an outage: say so and stop.
          if (error.access) return void refusals.push(error);
          return out.warn(`${relayRefusalMessage(error)}; not retrying`);
        }
        out.warn(
          `${(error as Error).message}; still trying in the background (${relayUrls[i]})`,
        );
      })
    ),
  );
  if (refusals.length > 0) {
    for (const presence of presences) presence.close();
    listener.close();
    throw new Error(relayRefusalMessage(refusals[0]));
  }
  started = true;
  const publisher = settings.dnsServer === undefined ? undefined : startPublishing({
    secretKey: settings.secretKey,
    pkarrUrl: settings.dnsServer,
    // Only a pkarr relay at a named relay's origin gets its token, never a third party.
    accessToken: settings.relayToken?.for(settings.dnsServer),
    contents: () => ({
      relayUrls,
      addrs: directAddrs.flatMap((text) => {
        try {
          const { host, port } = parseHostPort(text);
          return [{ hostname: host, port }];
        } catch {
          return []; // "[::]:7000 (all interfaces; ...)": nothing dialable to publish
        }
      }),
    }),
    onError: (error) => limits.warnings.report("publish", `discovery: ${error.message}`),
  });
  if (publisher) {
    discovery.publisher = publisher;
    await publisher.first;
    out.info(`Discovery: publishing to ${settings.dnsServer}`);
  }
  options.started?.(settings.secretKey.endpointId.toString());
  out.info("Waiting for clients to connect...");

  // Relay-only offers no direct path, punched or published.
  const answerUpgrades = settings.relayOnly
    ? undefined
    : upgradeAnswerer(settings.secretKey, settings.ice, relayUrls, out);
  const sessions = sharedPool(settings.maxSessions);
  const registry = new SessionRegistry();
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
  const served = services(limits);
  const active = new Set<Promise<void>>();
  let counter = 0;
  const serving = (async () => {
    for (;;) {
      const conn = await listener.accept();
      if (!conn) return;
      const session = serveConnection(conn, {
        authenticate: (credential) => settings.tokens.has(credential),
        services: served,
        sessions,
        log: out,
        label: `session ${++counter}`,
        unauthenticated: limits.unauthenticated,
        warnings: limits.warnings,
        onPaths: answerUpgrades,
        registry,
      });
      active.add(session);
      session.finally(() => active.delete(session));
    }
  })();
  await shutdownSignal();
  out.info("Shutting down");
  publisher?.stop();
  for (const presence of presences) presence.close();
  listener.close();
  await statusView?.shutdown();
  await serving;
  limits.warnings.close();
}

// The host of a `dialableAddresses` entry (`[::1]:7000` gives `::1`); "" for its hint line.
function hostOf(addr: string): string {
  try {
    return parseHostPort(addr).host;
  } catch {
    return "";
  }
}
