/**
 * `tunnel vpn client`: connects to a VPN server by EndpointId, exchanges fresh
 * WireGuard keys, and routes the VPN network (and `--route` networks) through a
 * TUN device holding the address the server assigned. It reconnects by itself
 * and keeps its device while the address stays the same.
 * @module
 */
import { EndpointId } from "../../core/identity/mod.ts";
import { Cidr, formatIp } from "../../core/net/mod.ts";
import { CloseCode } from "../../core/transport/mod.ts";
import { parseHostPort, SessionRefusedError } from "../../core/tunnel/mod.ts";
import {
  VpnClient,
  type VpnClientEvent,
  type VpnClientLink,
  vpnRequest,
} from "../../core/vpn/mod.ts";
import { takeInstanceLock } from "../../core/vpn/host/mod.ts";
import { shutdownSignal } from "../options.ts";
import type { Output } from "../output.ts";
import { asUsageError, UsageError } from "../usage_error.ts";
import { parseStatusAddress } from "../status_endpoint.ts";
import { resolveCredential } from "../settings/iroh_client_settings.ts";
import { followReconnects, SessionFollower } from "../../core/endpoint/mod.ts";
import { serveClientStatus } from "../run/client_status.ts";
import { firstConnect } from "../run/first_connect.ts";
import { iceSettings } from "../settings/ice_options.ts";
import { irohIce } from "../settings/iroh_ice.ts";
import { resolveIrohPaths } from "../settings/iroh_paths.ts";
import type { DhtNode } from "../../core/dht/mod.ts";
import { openDhtNode } from "../run/dht_node.ts";
import { torRelayDial } from "../settings/socks_proxy.ts";
import { resolveRelayToken } from "../settings/relay_token.ts";
import {
  connectToServer,
  permanentFailure,
  type ServerConnectSettings,
  type ServerSession,
} from "../run/server_connect.ts";
import {
  DEFAULT_KEEPALIVE_SECS,
  DEFAULT_LOCK_FILE,
  DEFAULT_VPN_MTU,
  type VpnClientFlags,
} from "../settings/vpn_options.ts";
import type { IrohIceSettings } from "../settings/iroh_ice.ts";

/** Everything the VPN client needs, checked. */
export interface VpnClientSettings extends ServerConnectSettings {
  /** The request naming this client instance (`ip://…`). */
  source: string;
  /** Whether a lost session is made again. */
  reconnect: boolean;
  /** How to gather ICE candidates when punching a direct path. */
  ice: IrohIceSettings;
  /** Where to serve the status view (loopback), when asked. */
  status?: { host: string; port: number };
  /** The device MTU asked for (the server's may be lower). */
  mtu: number;
  /** WireGuard persistent keepalive, seconds (0: off). */
  keepaliveSecs: number;
  /** Networks routed through the VPN besides its own. */
  routes: Cidr[];
  /** The single-instance lock file. */
  lockFile: string;
}

/**
 * Checks the flags (and `TUNNEL_AUTH_TOKEN`, `TUNNEL_RELAY_TOKEN`).
 * @throws {UsageError} naming the first bad or missing setting.
 */
export async function resolveVpnClientSettings(
  flags: VpnClientFlags,
  env: Parameters<typeof resolveCredential>[1] = {},
): Promise<VpnClientSettings> {
  if (flags.serverNodeId === undefined) {
    throw new UsageError("Missing --server-node-id: the EndpointId the VPN server prints");
  }
  const serverId = asUsageError(() => EndpointId.parse(flags.serverNodeId!));
  const addrs = flags.serverAddr ?? [];
  const paths = resolveIrohPaths(flags, {});
  if (paths.relayOnly && addrs.length > 0) {
    throw new UsageError("--relay-only dials no direct address: drop --server-addr");
  }
  if (
    addrs.length === 0 && paths.relayUrls.length === 0 && paths.dnsServer === undefined &&
    paths.dht === undefined
  ) {
    throw new UsageError(
      "No way to reach the server: pass --server-addr HOST:PORT, --relay-url URL, --dht or drop --no-dns",
    );
  }
  const routes = (flags.route ?? []).map((text) => {
    const cidr = asUsageError(() => Cidr.parse(text));
    if (cidr.address.length !== 4) {
      throw new UsageError(`Invalid --route '${text}': VPN routes are IPv4 networks`);
    }
    return cidr;
  });
  const stunNamed = flags.stun === false || flags.stunServer !== undefined;
  const instance = Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return {
    serverId,
    serverAddrs: addrs.map((a) => {
      const { host, port } = asUsageError(() => parseHostPort(a, "--server-addr"));
      return { hostname: host, port };
    }),
    relayUrls: paths.relayUrls,
    discoveredRelays: flags.relay !== false,
    relayOnly: paths.relayOnly,
    dnsServer: paths.dnsServer,
    ...(paths.dht ? { dht: paths.dht } : {}),
    ...(paths.socks5Proxy ? { socks5Proxy: paths.socks5Proxy } : {}),
    relayToken: await resolveRelayToken(flags, env.relayToken, {}, undefined, paths.relayUrls),
    credential: await resolveCredential(flags, env, {}, undefined),
    source: vpnRequest(instance),
    reconnect: flags.reconnect !== false,
    ice: irohIce(
      iceSettings(flags, undefined, []),
      stunNamed,
      !paths.relayOnly && flags.portMapping !== false,
    ),
    status: flags.status === undefined ? undefined : parseStatusAddress(flags.status),
    mtu: flags.mtu ?? DEFAULT_VPN_MTU,
    keepaliveSecs: flags.keepaliveSecs ?? DEFAULT_KEEPALIVE_SECS,
    routes,
    lockFile: flags.lockFile ?? DEFAULT_LOCK_FILE,
  };
}

/** A session with the VPN server and the WireGuard running over it. */
interface VpnSession {
  found: ServerSession;
  link: VpnClientLink;
}

/** Runs the client until Ctrl-C, or until the server is lost and cannot be had back. */
export async function runVpnClient(settings: VpnClientSettings, out: Output): Promise<void> {
  const lock = await takeInstanceLock(settings.lockFile);
  if (lock.tookOverStale) out.debug(`took over the stale lock ${lock.path} of a run that ended`);
  const vpn = new VpnClient({
    mtu: settings.mtu,
    routes: settings.routes,
    keepaliveSeconds: settings.keepaliveSecs || undefined,
    onEvent: (event) => out.info(vpnClientLine(event)),
  });
  // No path may end where the VPN routes (its network, --route networks): a path
  // through the tunnel would carry the tunnel inside itself. Hole punching neither
  // offers nor tries such addresses, and published ones are not dialed.
  const avoidAddress = (address: string) => vpn.covers(address);
  settings = { ...settings, avoidAddress, ice: { ...settings.ice, avoidAddress } };
  const follower = new SessionFollower(settings, out);
  let statusView: Deno.HttpServer<Deno.NetAddr> | undefined;
  let dhtNode: DhtNode | undefined;
  try {
    statusView = settings.status &&
      serveClientStatus(follower, settings.status, out, () => ({ vpn: vpn.status() }));
    const relayDial = settings.socks5Proxy && await torRelayDial(settings.socks5Proxy);
    dhtNode = settings.dht && await openDhtNode(settings.dht, out, { readOnly: true });
    await runSessions({ ...settings, dhtNode, relayDial }, out, follower, vpn);
  } finally {
    await vpn.close();
    await statusView?.shutdown();
    await dhtNode?.close();
    lock.release();
  }
}

/** Connects, and starts WireGuard over the session. */
async function connectVpn(
  settings: VpnClientSettings,
  out: { info(line: string): void; warn(line: string): void; debug(line: string): void },
  vpn: VpnClient,
  follower: SessionFollower,
  onConnected?: (where: string) => void,
): Promise<VpnSession> {
  const found = await connectToServer(settings, out, onConnected, follower.onPathChange);
  try {
    return { found, link: await vpn.link(found.session) };
  } catch (error) {
    found.session.conn.close({ code: CloseCode.ProtocolViolation, reason: "no VPN configuration" });
    throw error;
  }
}

async function runSessions(
  settings: VpnClientSettings,
  out: Output,
  follower: SessionFollower,
  vpn: VpnClient,
): Promise<void> {
  const shutdown = shutdownSignal();
  const stop = new AbortController();
  shutdown.then(() => stop.abort(new Error("shut down")));
  let first: VpnSession;
  try {
    first = await firstVpnSession(settings, out, vpn, follower, stop.signal);
  } catch (error) {
    if (!stop.signal.aborted) throw error;
    out.info("Shutting down");
    return;
  }
  await vpn.use(first.link);
  follower.adopt(first.found, `vpn ${formatIp(first.link.config.clientAddress)}`);
  if (!settings.reconnect) {
    const lost = await Promise.race([
      first.found.session.conn.closed.then((info) => info.reason || "closed"),
      shutdown.then(() => undefined),
    ]);
    first.link.close();
    first.found.session.conn.close({ code: CloseCode.Done, reason: "client shutting down" });
    if (lost === undefined) {
      out.info("Shutting down");
      return;
    }
    throw new Error(`Connection to the server lost: ${lost}`);
  }
  const sessions = followReconnects<VpnSession>(first, {
    giveUp: permanentFailure,
    serverId: settings.serverId.toString(),
    out,
    follower,
    connect: (log) => connectVpn(settings, log, vpn, follower),
    found: (session) => session.found,
    release: (session) => session.link.close(),
    onLost: () => vpn.lost(),
    restore: (session) =>
      vpn.use(session.link).then(
        () => follower.adopt(session.found, `vpn ${formatIp(session.link.config.clientAddress)}`),
        (error) => {
          out.warn(`${(error as Error).message}; dropping the session to try again`);
          session.found.session.conn.close({ code: CloseCode.Done, reason: "device failed" });
        },
      ),
  });
  const ended = await Promise.race([sessions.ended, shutdown.then(() => undefined)]);
  if (ended === undefined) {
    out.info("Shutting down");
    sessions.close("client shutting down");
    return;
  }
  throw vpnRefusal(ended);
}

/** The first session (cli/run/first_connect.ts): retried unless `--no-reconnect`. */
function firstVpnSession(
  settings: VpnClientSettings,
  out: Output,
  vpn: VpnClient,
  follower: SessionFollower,
  signal: AbortSignal,
): Promise<VpnSession> {
  return firstConnect({
    connect: (log) =>
      connectVpn(
        settings,
        log,
        vpn,
        follower,
        (where) => out.info(`Connected to server ${settings.serverId} ${where}`),
      ),
    retry: settings.reconnect,
    out,
    serverId: settings.serverId.toString(),
    settings,
    signal,
    discard: (late) => {
      late.link.close();
      late.found.session.conn.close({ code: CloseCode.Done, reason: "shut down" });
    },
    reword: (error) => vpnRefusal(error) as Error,
  });
}

/**
 * Says a refused request in VPN words: the server's reason as it is, without
 * the request (its client instance is noise to the user).
 */
export function vpnRefusal(error: unknown): unknown {
  if (error instanceof SessionRefusedError && error.kind === "source") {
    return new Error(`Server refused the VPN client: ${error.reason}`, { cause: error });
  }
  return error;
}

/** A line for the user about the device (the `--mtu` the user gave, in its words). */
export function vpnClientLine(event: VpnClientEvent): string {
  switch (event.type) {
    case "address-changed":
      return `VPN address changed from ${event.from} to ${event.to}: making the device again`;
    case "mtu-lowered":
      return `MTU ${event.mtu}: the server's device is smaller than --mtu ${event.asked}`;
    case "device-ready":
      return `VPN ready: ${event.address} on ${event.device} (MTU ${event.mtu}), server ${event.server}; routes: ${
        event.routes.join(", ")
      }`;
    case "device-kept":
      return `VPN address ${event.address} kept on ${event.device}`;
  }
}
