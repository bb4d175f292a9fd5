/**
 * `tunnel client [iroh]`: connects to a server known by its EndpointId, asks for
 * a source, and serves it on a local address.
 * @module
 */
import { Command, Option } from "commander";
import { tokenFormatError } from "../../core/auth/mod.ts";
import { Reconnector } from "../../core/connect/mod.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import { CloseCode } from "../../core/transport/mod.ts";
import {
  type ClientSession,
  formatHostPort,
  formatSource,
  parseHostPort,
  type PathInfo,
  SESSION_WAIT_MS,
  SessionRegistry,
  type SessionSupplier,
  singleSession,
  type Source,
} from "../../core/tunnel/mod.ts";
import type { Config, ModeConfig } from "../config.ts";
import { type EnvSetting, readEnvSetting, unreadableHint } from "../env.ts";
import { pick, repeatable, shutdownSignal } from "../options.ts";
import { type IrohPathFlags, irohPathOptions, resolveIrohPaths } from "./iroh_paths.ts";
import { resolveRelayToken } from "./relay_token.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { MAX_TOKEN_FILE_BYTES, readUserFile } from "../user_file.ts";
import { modeHelp } from "./mode_help.ts";
import { bindTarget, forwardUntilDone, type LocalTarget } from "./local_target.ts";
import {
  connectToServer,
  permanentFailure,
  type ServerConnectSettings,
  type ServerSession,
} from "./server_connect.ts";
import { PathAnnouncer } from "./path_announcer.ts";
import { ReconnectLines } from "./reconnect_lines.ts";
import { parseStatusAddress, serveStatus, type StatusDocument } from "../status_endpoint.ts";
import { irohIce, type IrohIceSettings } from "./iroh_upgrade.ts";
import { startClientUpgrades } from "../../core/endpoint/mod.ts";
import { type IceFlags, iceOptions, iceSettings } from "./ice_options.ts";
import type { Upgrader } from "../../core/upgrade/mod.ts";
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
  /** false with `--no-reconnect`. */
  reconnect?: boolean;
  status?: string;
}

/** Everything the client needs, checked. */
export interface ClientIrohSettings extends ServerConnectSettings {
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
  source: Source;
  target: { host: string; port: number };
  token: string;
  /** Whether a lost session is made again (not with `--no-reconnect`). */
  reconnect: boolean;
  /** How to gather ICE candidates when punching a direct path. */
  ice: IrohIceSettings;
  /** Where to serve the status view (loopback), when asked. */
  status?: { host: string; port: number };
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
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)")
    .addOption(
      new Option(
        "--no-reconnect",
        "exit 1 when the connection to the server is lost, instead of reconnecting",
      ),
    );
  return verboseOption(command).action(async (flags: ClientIrohFlags) => {
    const config = await loadModeConfig(flags, "client", "iroh");
    await runClientIroh(
      await resolveClientIrohSettings(flags, config, {
        authToken: readEnvSetting("TUNNEL_AUTH_TOKEN"),
        relayToken: readEnvSetting("TUNNEL_RELAY_TOKEN"),
      }),
      new Output(flags.verbose),
    );
  });
}

/** The environment's part in the settings: `TUNNEL_AUTH_TOKEN`, `TUNNEL_RELAY_TOKEN`. */
export interface ClientIrohEnv {
  authToken?: EnvSetting;
  relayToken?: EnvSetting;
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
  const paths = resolveIrohPaths(flags, file, config?.path);
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
    ice: irohIce(iceSettings(flags, file.stun_servers, []), stunNamed),
    serverId,
    relayUrls: paths.relayUrls,
    discoveredRelays: flags.relay !== false,
    relayOnly: paths.relayOnly,
    dnsServer: paths.dnsServer,
    relayToken: await resolveRelayToken(
      flags,
      env.relayToken,
      file,
      config?.path,
      paths.relayUrls,
    ),
    serverAddrs: addrs.map((a) => {
      const { host, port } = asUsageError(() => parseHostPort(a, "--server-addr"));
      return { hostname: host, port };
    }),
    source,
    target,
    token: await resolveToken(flags, env, file, config?.path),
    // commander sets `reconnect` to true unless --no-reconnect: only false is a choice made.
    reconnect: flags.reconnect === false ? false : file.reconnect ?? true,
  };
}

/**
 * The token, from the first of: the command line (`--auth-token`,
 * `--auth-token-file`), `TUNNEL_AUTH_TOKEN`, the config file. Only the
 * server's operator can issue one, so that is where the messages send the user.
 */
export async function resolveToken(
  flags: Pick<ClientIrohFlags, "authToken" | "authTokenFile">,
  env: ClientIrohEnv,
  file: Pick<ModeConfig<"client", "iroh">, "auth_token" | "auth_token_file">,
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
 * What follows the client's current session: its path lines, its hole
 * punching, and its entry in the status view. Each new session replaces the last.
 */
export class SessionFollower {
  /** The sessions the status view lists (at most one). */
  readonly registry = new SessionRegistry();
  /** What the status view says of the client. */
  state: "connecting" | "connected" | "reconnecting" = "connecting";
  readonly #settings: FollowedServer;
  readonly #out: Output;
  readonly #announcer: PathAnnouncer;
  #unregister: (() => void) | undefined;
  #upgrader: Upgrader | undefined;

  /** Follows sessions with the server `settings` names, printing path lines to `out`. */
  constructor(settings: FollowedServer, out: Output) {
    this.#settings = settings;
    this.#out = out;
    this.#announcer = new PathAnnouncer((line) => out.info(line));
  }

  /** Where a new session reports path changes. */
  readonly onPathChange = (path: PathInfo): void => this.#announcer.changed(path);

  /** Follows `found` from now on; `source` is what the status view says it carries. */
  adopt(found: ServerSession, source?: string): void {
    this.#leave();
    const { session } = found;
    this.#announcer.watch(() => session.paths.paths());
    this.#unregister = this.registry.add({
      label: "session",
      peer: this.#settings.serverId.toString(),
      source: source ??
        (typeof this.#settings.source === "string"
          ? this.#settings.source
          : formatSource(this.#settings.source)),
      paths: session.paths,
      stats: session.stats,
    });
    if (found.relayUrl !== undefined && !this.#settings.relayOnly) {
      this.#upgrader = startClientUpgrades(
        session.paths,
        this.#settings.serverId,
        this.#settings.ice,
        found.relayUrl,
        this.#out,
      );
    }
    this.state = "connected";
  }

  /**
   * Serves the client's status view at `address` (loopback), with `more` of
   * its mode (a VPN's address), and prints the command that reads it.
   * @throws {Error} when the address cannot be bound.
   */
  serveStatus(
    address: { host: string; port: number },
    more: () => Pick<StatusDocument, "vpn"> = () => ({}),
  ): Deno.HttpServer<Deno.NetAddr> {
    const view = serveStatus(address, () => ({
      role: "client",
      endpointId: this.#settings.serverId.toString(),
      state: this.state,
      sessions: this.registry.snapshot(),
      ...more(),
    }));
    this.#out.info(`Status: tunnel status ${formatHostPort(view.addr.hostname, view.addr.port)}`);
    return view;
  }

  /** The session was lost; another is being made. */
  lost(): void {
    this.#leave();
    this.state = "reconnecting";
  }

  #leave(): void {
    this.#upgrader?.stop();
    this.#upgrader = undefined;
    this.#unregister?.();
    this.#unregister = undefined;
  }
}

/** What a {@linkcode SessionFollower} needs to know of the server and the way to it. */
export type FollowedServer =
  & Pick<ClientIrohSettings, "serverId" | "relayOnly" | "ice">
  & { source: Source | string };

/** Runs the client until Ctrl-C, or until the server is lost and cannot be had back. */
export async function runClientIroh(settings: ClientIrohSettings, out: Output): Promise<void> {
  // Bind first: a port in use is the user's to fix before anyone is dialed.
  const local: LocalTarget = bindTarget(settings.source.protocol, settings.target);
  const follower = new SessionFollower(settings, out);
  let statusView: Deno.HttpServer<Deno.NetAddr> | undefined;
  try {
    statusView = settings.status && follower.serveStatus(settings.status);
  } catch (error) {
    local.close();
    throw error;
  }
  try {
    await runSessions(settings, out, local, follower);
  } finally {
    await statusView?.shutdown();
  }
}

async function runSessions(
  settings: ClientIrohSettings,
  out: Output,
  local: LocalTarget,
  follower: SessionFollower,
): Promise<void> {
  // From here on Ctrl-C ends the client cleanly, even in the middle of the first connect.
  const shutdown = shutdownSignal();
  let first;
  try {
    first = await Promise.race([
      connectToServer(
        settings,
        out,
        (where) => out.info(`Connected to server ${settings.serverId} ${where}`),
        follower.onPathChange,
      ),
      shutdown.then(() => undefined),
    ]);
  } catch (error) {
    // The first connect is not retried: a wrong setting is better said at once.
    local.close();
    throw permanentFailure(error) ?? error;
  }
  if (first === undefined) {
    out.info("Shutting down");
    local.close();
    return;
  }
  follower.adopt(first);
  out.info(`Tunnel ready: ${local.address} -> ${formatSource(settings.source)}`);
  const sessions = settings.reconnect
    ? reconnectingSessions(first.session, settings, out, follower)
    : singleSession(first.session);
  await forwardUntilDone(sessions, local, out, { shutdown });
}

/**
 * A session that is made again whenever it is lost: one line when it is lost,
 * one when it is back, and failed attempts summarised in between.
 */
function reconnectingSessions(
  first: ClientSession,
  settings: ClientIrohSettings,
  out: Output,
  follower: SessionFollower,
): SessionSupplier {
  // An outage at the longest backoff still prints about one line a minute.
  const lines = new ReconnectLines(out, settings.serverId.toString());
  let latest: ServerSession | undefined;
  return new Reconnector<ClientSession>(first, {
    connect: async () => {
      latest = await connectToServer(
        settings,
        lines.attemptLog,
        undefined,
        follower.onPathChange,
      );
      return latest.session;
    },
    lost: (session) => session.conn.closed.then((info) => info.reason),
    close: (session, reason) => session.conn.close({ code: CloseCode.Done, reason }),
    giveUp: permanentFailure,
    waitMs: SESSION_WAIT_MS,
    onLost: (reason) => {
      follower.lost();
      lines.lost(reason);
    },
    onAttemptFailed: (error, attempt, retryInMs) => lines.attemptFailed(error, attempt, retryInMs),
    onRestored: (_, attempts, downMs) => {
      lines.restored(latest?.where ?? "", attempts, downMs);
      if (latest) follower.adopt(latest);
    },
  });
}
