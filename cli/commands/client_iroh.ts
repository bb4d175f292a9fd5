/**
 * `tunnel client [iroh]`: connects to a server known by its EndpointId, asks for
 * a source, and serves it on a local address.
 * @module
 */
import { Command } from "commander";
import { tokenFormatError } from "../../core/auth/mod.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import {
  AllAttemptsFailedError,
  type ConnectAttempt,
  firstToConnect,
} from "../../core/connect/mod.ts";
import { resolveRecord } from "../../core/discovery/mod.ts";
import { dialViaRelay } from "../../core/relay/mod.ts";
import { ConnectError, dialQuic } from "../../core/transport/mod.ts";
import {
  ALPN,
  type ClientSession,
  formatHostPort,
  formatSource,
  openClientSession,
  parseHostPort,
  SessionRefusedError,
  SessionRegistry,
  type Source,
} from "../../core/tunnel/mod.ts";
import type { Config, ModeConfig } from "../config.ts";
import { type EnvSetting, readEnvSetting, unreadableHint } from "../env.ts";
import { pick, repeatable } from "../options.ts";
import { type IrohPathFlags, irohPathOptions, resolveIrohPaths } from "./iroh_paths.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { MAX_TOKEN_FILE_BYTES, readUserFile } from "../user_file.ts";
import { resolveServerAddrs } from "./server_addrs.ts";
import { PathAnnouncer } from "./path_announcer.ts";
import { parseStatusAddress, serveStatus } from "../status_endpoint.ts";
import { irohIce, type IrohIceSettings, startClientUpgrades } from "./iroh_upgrade.ts";
import { type IceFlags, iceOptions, iceSettings } from "./ice_options.ts";
import { modeHelp } from "./mode_help.ts";
import { bindTarget, forwardUntilDone, type LocalTarget } from "./local_target.ts";
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

/** The command line of `tunnel client [iroh]`, as commander parses it. */
export interface ClientIrohFlags
  extends ConfigFlags, ForwardFlags, IrohPathFlags, IceFlags, VerboseFlag {
  serverNodeId?: string;
  serverAddr?: string[];
  authToken?: string;
  authTokenFile?: string;
  status?: string;
}

/** Everything the client needs, checked. */
export interface ClientIrohSettings {
  serverId: EndpointId;
  serverAddrs: { hostname: string; port: number }[];
  /** Relays the server is reachable at, named by the user. */
  relayUrls: string[];
  /** Whether the relays the server's record names are tried (not with `--no-relay`). */
  discoveredRelays: boolean;
  /** Only relay paths: no direct address is dialed. */
  relayOnly: boolean;
  /** The pkarr relay to look the server's record up at (none: no lookup). */
  dnsServer?: string;
  /** How to gather ICE candidates when punching a direct path. */
  ice: IrohIceSettings;
  /** Where to serve the status view (loopback), when asked. */
  status?: { host: string; port: number };
  source: Source;
  target: { host: string; port: number };
  token: string;
}

/** Defines the command. */
export function clientIrohCommand(): Command {
  const command = modeHelp(configOptions(new Command("iroh")), "client", "iroh")
    .description("connect to a server by EndpointId and forward a source locally (default mode)")
    .option("-n, --server-node-id <id>", "EndpointId of the server")
    .addOption(
      repeatable("--server-addr <host:port>", "address the server listens on (repeatable)"),
    );
  forwardOptions(
    iceOptions(irohPathOptions(command, "client"), "the relay's own, on port 3478"),
  )
    .option("--auth-token <token>", "authentication token")
    .option("--auth-token-file <file>", "file holding the authentication token")
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)");
  return verboseOption(command).action(async (flags: ClientIrohFlags) => {
    const config = await loadModeConfig(flags, "client", "iroh");
    await runClientIroh(
      await resolveClientIrohSettings(flags, config, {
        authToken: readEnvSetting("TUNNEL_AUTH_TOKEN"),
      }),
      new Output(flags.verbose),
    );
  });
}

/** The environment's part in the settings: `TUNNEL_AUTH_TOKEN`. */
export interface ClientIrohEnv {
  authToken?: EnvSetting;
}

/**
 * Merges CLI flags over the environment over config values and checks them.
 * @throws {UsageError} naming the first bad or missing setting.
 * @throws {Error} when a file it names cannot be read.
 */
export async function resolveClientIrohSettings(
  flags: ClientIrohFlags,
  config?: Config<"client", "iroh">,
  env: ClientIrohEnv = {},
): Promise<ClientIrohSettings> {
  const file = config?.values ?? {};
  const serverId = asUsageError(() =>
    EndpointId.parse(
      requireSetting(
        pick(flags.serverNodeId, file.server_node_id),
        "--server-node-id",
        "server_node_id",
      ),
    )
  );
  const addrs = pick(flags.serverAddr, file.server_addrs) ?? [];
  const paths = resolveIrohPaths(flags, file);
  if (paths.relayOnly && addrs.length > 0) {
    throw new UsageError("--relay-only dials no direct address: drop --server-addr");
  }
  if (addrs.length === 0 && paths.relayUrls.length === 0 && paths.dnsServer === undefined) {
    throw new UsageError(
      "No way to reach the server: pass --server-addr HOST:PORT (one of the addresses the server prints), --relay-url URL (a relay the server uses) or drop --no-dns",
    );
  }
  const source = parseSourceSetting(
    requireSetting(pick(flags.source, file.request_source), "--source", "request_source"),
  );
  const target = parseTargetSetting(
    requireSetting(pick(flags.target, file.target), "--target", "target"),
  );
  const stunNamed = flags.stun === false || (flags.stunServer ?? file.stun_servers) !== undefined;
  return {
    status: flags.status === undefined ? undefined : parseStatusAddress(flags.status),
    serverId,
    ice: irohIce(iceSettings(flags, file.stun_servers, []), stunNamed),
    relayUrls: paths.relayUrls,
    discoveredRelays: flags.relay !== false,
    relayOnly: paths.relayOnly,
    dnsServer: paths.dnsServer,
    serverAddrs: addrs.map((a) => {
      const { host, port } = asUsageError(() => parseHostPort(a, "--server-addr"));
      return { hostname: host, port };
    }),
    source,
    target,
    token: await resolveToken(flags, env, file, config?.path),
  };
}

/**
 * The token, from the first of: the command line (`--auth-token`,
 * `--auth-token-file`), `TUNNEL_AUTH_TOKEN`, the config file. Only the
 * server's operator can issue one, so that is where the messages send the user.
 */
async function resolveToken(
  flags: ClientIrohFlags,
  env: ClientIrohEnv,
  file: ModeConfig<"client", "iroh">,
  configPath: string | undefined,
): Promise<string> {
  if (flags.authToken !== undefined && flags.authTokenFile !== undefined) {
    throw new UsageError("Use either --auth-token or --auth-token-file, not both");
  }
  const readTokenFile = (path: string) => readUserFile(path, "token file", MAX_TOKEN_FILE_BYTES);
  let text: string | undefined;
  let where = "";
  if (flags.authToken !== undefined) {
    [text, where] = [flags.authToken, "--auth-token"];
  } else if (flags.authTokenFile !== undefined) {
    [text, where] = [
      await readTokenFile(flags.authTokenFile),
      `token file '${flags.authTokenFile}'`,
    ];
  } else if (env.authToken?.value !== undefined) {
    [text, where] = [env.authToken.value, "TUNNEL_AUTH_TOKEN"];
  } else if (file.auth_token !== undefined) {
    [text, where] = [file.auth_token, `'auth_token' of config '${configPath}'`];
  } else if (file.auth_token_file !== undefined) {
    [text, where] = [
      await readTokenFile(file.auth_token_file),
      `token file '${file.auth_token_file}'`,
    ];
  }
  if (text === undefined) {
    throw new UsageError(
      "Missing --auth-token (or --auth-token-file, TUNNEL_AUTH_TOKEN, or 'auth_token' in the " +
        "config file): ask the server's operator for one" + unreadableHint(env.authToken),
    );
  }
  const problem = tokenFormatError(text.trim());
  if (problem) {
    throw new UsageError(
      `Invalid auth token in ${where}: ${problem}; ask the server's operator for a valid token`,
    );
  }
  return text.trim();
}

/**
 * The server's relays and addresses from its signed record.
 * @throws {Error} naming the pkarr relay when it has no record or cannot be asked.
 */
async function discover(
  serverId: EndpointId,
  dnsServer: string,
  out: Output,
  signal: AbortSignal,
) {
  const record = await resolveRecord(serverId, { relayUrl: dnsServer, signal });
  if (!record) {
    throw new Error(
      `No discovery record for ${serverId} at ${dnsServer}: is the server running with --dns-server ${dnsServer}?`,
    );
  }
  out.debug(
    `discovery: relays ${record.relayUrls.join(", ") || "none"}; addresses ${
      record.addrs.map((a) => formatHostPort(a.hostname, a.port)).join(", ") || "none"
    }`,
  );
  if (record.relayUrls.length === 0 && record.addrs.length === 0) {
    throw new Error(
      `The discovery record of ${serverId} at ${dnsServer} names no relay or address`,
    );
  }
  return record;
}

/** The error of the one path there was, else the summary of all. */
function unwrapSingleFailure(error: unknown): unknown {
  return error instanceof AllAttemptsFailedError && error.failures.length === 1
    ? unwrapSingleFailure(error.failures[0].error)
    : error;
}

/** Runs the client until Ctrl-C or until the server goes away. */
export async function runClientIroh(settings: ClientIrohSettings, out: Output): Promise<void> {
  // Bind first: a port in use is the user's to fix before anyone is dialed.
  const local: LocalTarget = bindTarget(settings.source.protocol, settings.target);
  const registry = new SessionRegistry();
  let state: "connecting" | "connected" = "connecting";
  let statusView: Deno.HttpServer | undefined;
  try {
    statusView = settings.status &&
      serveStatus(settings.status, () => ({
        role: "client",
        endpointId: settings.serverId.toString(),
        state,
        sessions: registry.snapshot(),
      }));
  } catch (error) {
    local.close();
    throw error;
  }
  if (statusView) {
    const { hostname, port } = statusView.addr as Deno.NetAddr;
    out.info(`Status: tunnel status ${formatHostPort(hostname, port)}`);
  }
  let session: ClientSession;
  try {
    const direct = settings.serverAddrs.length > 0
      ? await resolveServerAddrs(settings.serverAddrs, out)
      : [];
    const dialDirect = (addrs: { hostname: string; port: number }[]): ConnectAttempt => ({
      label: "direct",
      connect: () => dialQuic({ addrs, endpointId: settings.serverId, alpn: ALPN }),
    });
    const dialRelay = (url: string): ConnectAttempt => ({
      label: `relay ${url}`,
      connect: () =>
        dialViaRelay({
          relayUrl: url,
          serverId: settings.serverId,
          alpn: ALPN,
          log: { debug: (line: string) => out.debug(line) },
        }),
    });
    // Every path at once, the lookup among them; the first to authenticate the server's key wins.
    const attempts: ConnectAttempt[] = [
      ...(direct.length > 0 ? [dialDirect(direct)] : []),
      ...settings.relayUrls.map(dialRelay),
    ];
    const dnsServer = settings.dnsServer;
    if (dnsServer !== undefined) {
      attempts.push({
        label: `discovery at ${dnsServer}`,
        connect: async (signal) => {
          const found = await discover(settings.serverId, dnsServer, out, signal);
          const relays = settings.discoveredRelays
            ? found.relayUrls.filter((url) => !settings.relayUrls.includes(url))
            : [];
          const addrs = settings.relayOnly ? [] : found.addrs;
          const more = [...(addrs.length > 0 ? [dialDirect(addrs)] : []), ...relays.map(dialRelay)];
          if (more.length === 0) {
            throw new Error(
              `The discovery record of ${settings.serverId} at ${dnsServer} names no path this client may use`,
            );
          }
          return await firstToConnect(more);
        },
      });
    }
    const { conn, label } = await firstToConnect(attempts).catch((error) => {
      // One path: its own error, which may be a ConnectError handled below.
      throw unwrapSingleFailure(error);
    });
    out.info(
      `Connected to server ${settings.serverId} ${
        label === "direct"
          ? `at ${formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port)}`
          : `through ${label}`
      }`,
    );
    const relayUrl = label.startsWith("relay ") ? label.slice("relay ".length) : undefined;
    const announcer = new PathAnnouncer((line) => out.info(line));
    session = await openClientSession(
      conn,
      new TextEncoder().encode(settings.token),
      settings.source,
      {
        path: relayUrl === undefined
          ? {
            kind: "direct",
            label: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port),
          }
          : { kind: "relay", label: relayUrl },
        onPathChange: (path) => announcer.changed(path),
      },
    );
    announcer.watch(() => session.paths.paths());
    registry.add({
      label: "session",
      peer: settings.serverId.toString(),
      source: formatSource(settings.source),
      paths: session.paths,
      stats: session.stats,
    });
    state = "connected";
    if (relayUrl !== undefined && !settings.relayOnly) {
      startClientUpgrades(session.paths, settings.serverId, settings.ice, relayUrl, out);
    }
  } catch (error) {
    local.close();
    await statusView?.shutdown();
    if (error instanceof SessionRefusedError && error.kind === "auth") {
      throw new Error(`${error.message} (ask the server's operator for a valid token)`, {
        cause: error,
      });
    }
    if (error instanceof ConnectError && error.kind === "identity") {
      throw new Error(`${error.message}; check --server-node-id`, { cause: error });
    }
    throw error;
  }
  out.info(`Tunnel ready: ${local.address} -> ${formatSource(settings.source)}`);
  try {
    await forwardUntilDone(session, local, out);
  } finally {
    await statusView?.shutdown();
  }
}
