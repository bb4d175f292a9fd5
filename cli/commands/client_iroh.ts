/**
 * `tunnel client [iroh]`: connects to a server known by its EndpointId, asks for
 * a source, and serves it on a local address.
 * @module
 */
import { Command, Option } from "commander";
import { EndpointId } from "../../core/identity/mod.ts";
import {
  type ClientSession,
  formatSource,
  parseHostPort,
  type SessionSupplier,
  singleSession,
  type Source,
} from "../../core/tunnel/mod.ts";
import type { Config } from "../config.ts";
import { readEnvSetting } from "../env.ts";
import { pick, repeatable, shutdownSignal } from "../options.ts";
import { irohPathOptions, resolveIrohPaths } from "../settings/iroh_paths.ts";
import type { DhtNode } from "../../core/dht/mod.ts";
import { openDhtNode } from "../run/dht_node.ts";
import { torRelayDial } from "../settings/socks_proxy.ts";
import type { WebSocketDial } from "../../core/relay/mod.ts";
import { resolveRelayToken } from "../settings/relay_token.ts";
import { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { modeHelp } from "../settings/mode_help.ts";
import { bindTarget, forwardUntilDone, type LocalTarget } from "../run/local_target.ts";
import {
  connectToServer,
  permanentFailure,
  type ServerConnectSettings,
  type ServerSession,
} from "../run/server_connect.ts";
import { followReconnects, SessionFollower } from "../../core/endpoint/mod.ts";
import { CloseCode } from "../../core/transport/mod.ts";
import { serveClientStatus } from "../run/client_status.ts";
import { firstConnect } from "../run/first_connect.ts";
import { parseStatusAddress } from "../status_endpoint.ts";
import { irohIce, type IrohIceSettings } from "../settings/iroh_ice.ts";
import { iceOptions, iceSettings } from "../settings/ice_options.ts";
import { portMappingOption } from "../settings/iroh_ice.ts";
import {
  type ClientIrohEnv,
  type ClientIrohFlags,
  resolveCredential,
} from "../settings/iroh_client_settings.ts";
import {
  configOptions,
  forwardOptions,
  loadModeConfig,
  parseSourceSetting,
  parseTargetSetting,
  requireSetting,
  verboseOption,
} from "../settings/shared_flags.ts";

/** Everything the client needs, checked. */
export interface ClientIrohSettings extends ServerConnectSettings {
  /** The source to ask for. */
  source: Source;
  /** Where it is served locally. */
  target: { host: string; port: number };
  /** Whether a failed first connect is retried and a lost session made again (not with `--no-reconnect`). */
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
    portMappingOption(
      iceOptions(irohPathOptions(command, "client"), "the relay's own, on port 3478"),
      "client",
    ),
  )
    .option("--auth-token <token>", "authentication token")
    .option("--auth-token-file <file>", "file holding the authentication token")
    .option(
      "--client-key <file>",
      "prove this client key instead of a token (see generate-client-key)",
    )
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)")
    .addOption(
      new Option(
        "--no-reconnect",
        "connect once, and exit 1 when that fails or the server is lost, instead of retrying",
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
  if (
    addrs.length === 0 && paths.relayUrls.length === 0 && paths.dnsServer === undefined &&
    paths.dht === undefined
  ) {
    throw new UsageError(
      "No way to reach the server: pass --server-addr HOST:PORT (one of the addresses the server prints), --relay-url URL (a relay the server uses), --dht (a server that publishes there) or drop --no-dns (no_dns = true in a config)",
    );
  }
  const source = parseSourceSetting(
    requireSetting(pick(flags.source, file.request_source), "--source", "request_source"),
  );
  const target = parseTargetSetting(
    requireSetting(pick(flags.target, file.target), "--target", "target"),
    source,
  );
  const stunNamed = flags.stun === false || (flags.stunServer ?? file.stun_servers) !== undefined;
  return {
    status: flags.status === undefined ? undefined : parseStatusAddress(flags.status),
    ice: irohIce(
      iceSettings(flags, file.stun_servers, []),
      stunNamed,
      !paths.relayOnly && flags.portMapping !== false && file.port_mapping !== false,
    ),
    serverId,
    relayUrls: paths.relayUrls,
    discoveredRelays: flags.relay !== false,
    relayOnly: paths.relayOnly,
    // A server the user can already name a way to (an address, a relay) is not
    // looked up at iroh's public pkarr relay unless asked: nothing leaves for public
    // services that the user did not choose.
    dnsServer: paths.publicDns && (addrs.length > 0 || paths.relayUrls.length > 0)
      ? undefined
      : paths.dnsServer,
    ...(paths.dht ? { dht: paths.dht } : {}),
    ...(paths.socks5Proxy ? { socks5Proxy: paths.socks5Proxy } : {}),
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
    credential: await resolveCredential(flags, env, file, config?.path),
    // commander sets `reconnect` to true unless --no-reconnect: only false is a choice made.
    reconnect: flags.reconnect === false ? false : file.reconnect ?? true,
  };
}

/** Runs the client until Ctrl-C, or until the server is lost and cannot be had back. */
export async function runClientIroh(settings: ClientIrohSettings, out: Output): Promise<void> {
  // Bind first: a port in use is the user's to fix before anyone is dialed.
  const local: LocalTarget = bindTarget(settings.source.protocol, settings.target);
  const follower = new SessionFollower(settings, out);
  let statusView: Deno.HttpServer<Deno.NetAddr> | undefined;
  let dhtNode: DhtNode | undefined;
  let relayDial: WebSocketDial | undefined;
  try {
    statusView = settings.status && serveClientStatus(follower, settings.status, out);
    relayDial = settings.socks5Proxy && await torRelayDial(settings.socks5Proxy);
    dhtNode = settings.dht && await openDhtNode(settings.dht, out, { readOnly: true });
  } catch (error) {
    local.close();
    await statusView?.shutdown();
    throw error;
  }
  try {
    await runSessions({ ...settings, dhtNode, relayDial }, out, local, follower);
  } finally {
    await statusView?.shutdown();
    await dhtNode?.close();
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
  const stop = new AbortController();
  shutdown.then(() => stop.abort(new Error("shut down")));
  let first;
  try {
    first = await firstSession(settings, out, follower, stop.signal);
  } catch (error) {
    local.close();
    if (!stop.signal.aborted) throw error;
    out.info("Shutting down");
    return;
  }
  follower.adopt(first);
  out.info(`Tunnel ready: ${local.address} -> ${formatSource(settings.source)}`);
  const sessions = settings.reconnect
    ? reconnectingSessions(first, settings, out, follower)
    : singleSession(first.session);
  await forwardUntilDone(sessions, local, out, { shutdown });
}

/** The first session (cli/run/first_connect.ts): retried unless `--no-reconnect`. */
function firstSession(
  settings: ClientIrohSettings,
  out: Output,
  follower: SessionFollower,
  signal: AbortSignal,
): Promise<ServerSession> {
  return firstConnect({
    connect: (log) =>
      connectToServer(
        settings,
        log,
        (where) => out.info(`Connected to server ${settings.serverId} ${where}`),
        follower.onPathChange,
      ),
    retry: settings.reconnect,
    out,
    serverId: settings.serverId.toString(),
    settings,
    signal,
    discard: (late) => late.session.conn.close({ code: CloseCode.Done, reason: "shut down" }),
  });
}

/**
 * A session that is made again whenever it is lost (core/endpoint `followReconnects`),
 * supplied to the forwarding loop.
 */
function reconnectingSessions(
  first: ServerSession,
  settings: ClientIrohSettings,
  out: Output,
  follower: SessionFollower,
): SessionSupplier {
  const found = new WeakMap<ClientSession, ServerSession>([[first.session, first]]);
  return followReconnects<ClientSession>(first.session, {
    giveUp: permanentFailure,
    serverId: settings.serverId.toString(),
    out,
    follower,
    connect: async (log) => {
      const made = await connectToServer(settings, log, undefined, follower.onPathChange);
      found.set(made.session, made);
      return made.session;
    },
    found: (session) => found.get(session)!,
  });
}
