/**
 * The status view a server or client opens on loopback when asked
 * (`--status 127.0.0.1:PORT`): `GET /status` answers with the sessions it runs
 * now, as JSON, for `tunnel status`. Nothing else is served, and only on a
 * loopback address, since it names peers and paths.
 * @module
 */
import { Cidr, parseIp } from "../core/net/mod.ts";
import { formatHostPort, parseHostPort, type SessionStatus } from "../core/tunnel/mod.ts";
import { asUsageError, UsageError } from "./usage_error.ts";

const LOOPBACK = [Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")];

/** What `GET /status` answers. */
export interface StatusDocument {
  /** Which side answers. */
  role: "server" | "client";
  /** The server's EndpointId (its own, or the one the client connects to). */
  endpointId: string;
  /** The sessions running now (a client has at most one). */
  sessions: SessionStatus[];
  /** A client between sessions says so. */
  state?: "connected" | "reconnecting" | "connecting";
  /** VPN mode: the device and its addresses. */
  vpn?: VpnStatus;
  /** A server's process-wide pools (iroh mode), for watching a flood. */
  pools?: ServerPools;
  /** A server's listener port as its router maps it, when it does. */
  portMapping?: string;
  /** A client: where the server's record was last found ("in the DHT, signed …"). */
  record?: string;
  /** A server: where its record is published, and how the last publish went ("published at …, <time>"). */
  published?: string[];
}

/** How full one pool is. */
export interface PoolUse {
  /** Slots taken now. */
  active: number;
  /** Slots in all. */
  max: number;
}

/** A server's process-wide pools. */
export interface ServerPools {
  /** Connections handshaking or not yet authenticated. */
  unauthenticated: PoolUse;
  /** Authenticated sessions (`--max-sessions`). */
  sessions: PoolUse;
  /** Forwarded TCP connections. */
  tcpConnections: PoolUse;
  /** UDP flows. */
  udpFlows: PoolUse;
}

/** What a VPN server or client adds to its status. */
export interface VpnStatus {
  /** The TUN device. */
  device: string;
  /** The device's address: the server's, or the one the client was given, with the prefix. */
  address: string;
  /** The server's VPN network. */
  network?: string;
  /** The server's clients now. */
  clients?: number;
  /** The client's routes besides the VPN network. */
  routes?: string[];
}

/**
 * Parses `--status`: a loopback `host:port`.
 * @throws {UsageError} for another address or a malformed one.
 */
export function parseStatusAddress(text: string): { host: string; port: number } {
  const { host, port } = asUsageError(() => parseHostPort(text, "--status address"));
  const ip = parseIp(host);
  if (!ip || !LOOPBACK.some((net) => net.contains(ip))) {
    throw new UsageError(
      `Invalid --status address '${text}': the status view is served on loopback only (e.g. 127.0.0.1:7070)`,
    );
  }
  return { host, port };
}

/**
 * Serves the status document on `address` until the returned server is shut down.
 * @throws {Error} naming the address when it cannot be bound.
 */
export function serveStatus(
  address: { host: string; port: number },
  document: () => StatusDocument,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({
      hostname: address.host,
      port: address.port,
      onListen() {},
      onError: () => new Response("Internal error", { status: 500 }),
    }, (request) => {
      const url = new URL(request.url);
      if (request.method !== "GET" || url.pathname !== "/status") {
        return new Response("Not found: GET /status\n", { status: 404 });
      }
      return Response.json(document());
    });
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : (error as Error).message;
    throw new Error(
      `Cannot serve the status view on ${formatHostPort(address.host, address.port)}: ${why}`,
    );
  }
}
