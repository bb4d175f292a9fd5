/**
 * The DNS face's sockets: UDP and TCP on one port, each query answered by
 * {@linkcode answerDnsQuery}. Both are bounded: queries per source network
 * (a token bucket, as the pkarr writes have), and over TCP the connections at
 * once, the time one may stay open and the size of a message.
 * @module
 */
import { addressGroup } from "../net/mod.ts";
import { AddressBuckets } from "./_address_buckets.ts";
import { MAX_DNS_PACKET_SIZE } from "./dns_packet.ts";
import { answerDnsQuery, type DnsResponderOptions } from "./dns_responder.ts";

/** Queries in a burst from one source network (IPv4 address, IPv6 /64). */
export const DNS_QUERY_BURST = 100;
/** Queries per second from one source network, sustained. */
export const DNS_QUERIES_PER_SECOND = 20;
/** TCP connections open at once; more are closed as they come. */
export const DNS_MAX_TCP_CONNECTIONS = 64;
/** How long one TCP connection may stay open, whatever it does (RFC 7766 wants seconds). */
export const DNS_TCP_DEADLINE_MS = 10_000;
/** Attempts at one free port for both UDP and TCP when asked for port 0. */
const PORT_ATTEMPTS = 8;

/** Where and how the DNS face listens. */
export interface DnsServerOptions extends DnsResponderOptions {
  /** Address to bind. */
  hostname: string;
  /** Port for both UDP and TCP; 0 picks a free one. */
  port: number;
  /** Bounds, for tests; defaults above. */
  limits?: {
    queryBurst?: number;
    queriesPerSecond?: number;
    maxTcpConnections?: number;
    tcpDeadlineMs?: number;
  };
  /** A monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/** A running DNS face. */
export interface DnsServer {
  /** The address bound. */
  hostname: string;
  /** The port bound, UDP and TCP. */
  port: number;
  /** Stops listening, closes open connections and waits for the loops to end. */
  close(): Promise<void>;
}

/**
 * Listens for DNS over UDP and TCP on `hostname:port`.
 *
 * @param options Address, origin, store and bounds.
 * @returns the server, listening.
 * @throws {Deno.errors.AddrInUse} or another bind error when the port cannot be had.
 * @example
 * ```ts
 * const server = serveDns({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   origin: "dns.example.org",
 *   lookup: () => undefined,
 * });
 * await server.close();
 * ```
 */
export function serveDns(options: DnsServerOptions): DnsServer {
  const { udp, tcp } = bindBoth(options.hostname, options.port);
  const now = options.now ?? (() => performance.now());
  const buckets = new AddressBuckets({
    burst: options.limits?.queryBurst ?? DNS_QUERY_BURST,
    perSecond: options.limits?.queriesPerSecond ?? DNS_QUERIES_PER_SECOND,
  });
  const allowed = (addr: Deno.Addr) =>
    buckets.take(addressGroup((addr as Deno.NetAddr).hostname ?? ""), now());
  const maxConnections = options.limits?.maxTcpConnections ?? DNS_MAX_TCP_CONNECTIONS;
  const deadlineMs = options.limits?.tcpDeadlineMs ?? DNS_TCP_DEADLINE_MS;
  const responder = { origin: options.origin, lookup: options.lookup };
  const open = new Set<Deno.Conn>();
  const serving = new Set<Promise<void>>();

  const udpLoop = (async () => {
    const buffer = new Uint8Array(2_048);
    for (;;) {
      let datagram: Uint8Array, from: Deno.Addr;
      try {
        [datagram, from] = await udp.receive(buffer);
      } catch {
        return; // closed
      }
      if (!allowed(from)) continue;
      const answer = answerDnsQuery(datagram, "udp", responder);
      if (answer) await udp.send(answer, from).catch(() => {});
    }
  })();

  const tcpLoop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await tcp.accept();
      } catch {
        return; // closed
      }
      if (open.size >= maxConnections) {
        conn.close();
        continue;
      }
      open.add(conn);
      const done = serveTcpConnection(conn, deadlineMs, (query) => {
        if (!allowed(conn.remoteAddr)) return undefined;
        return answerDnsQuery(query, "tcp", responder);
      }).finally(() => {
        open.delete(conn);
        serving.delete(done);
      });
      serving.add(done);
    }
  })();

  const bound = udp.addr as Deno.NetAddr;
  return {
    hostname: bound.hostname,
    port: bound.port,
    close: async () => {
      udp.close();
      tcp.close();
      for (const conn of open) closeQuietly(conn);
      await Promise.all([udpLoop, tcpLoop, ...serving]);
    },
  };
}

/** UDP and TCP on the same port: with port 0, the UDP port is tried for TCP until both are free. */
function bindBoth(hostname: string, port: number): { udp: Deno.DatagramConn; tcp: Deno.Listener } {
  for (let attempt = 1;; attempt++) {
    const udp = Deno.listenDatagram({ transport: "udp", hostname, port });
    try {
      const tcp = Deno.listen({ hostname, port: (udp.addr as Deno.NetAddr).port });
      return { udp, tcp };
    } catch (error) {
      udp.close();
      if (port !== 0 || attempt >= PORT_ATTEMPTS || !(error instanceof Deno.errors.AddrInUse)) {
        throw error;
      }
    }
  }
}

/**
 * Answers the length-prefixed messages of one connection (RFC 1035 4.2.2)
 * until the client closes it, sends a message over the size limit, or the
 * deadline passes. A query the rate refuses ends the connection.
 */
async function serveTcpConnection(
  conn: Deno.Conn,
  deadlineMs: number,
  answer: (query: Uint8Array) => Uint8Array | undefined,
): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), deadlineMs);
  try {
    for (;;) {
      const prefix = await readExactly(conn, 2);
      if (!prefix) return;
      const length = (prefix[0] << 8) | prefix[1];
      // Queries are small; a longer one is no query this face answers.
      if (length === 0 || length > MAX_DNS_PACKET_SIZE) return;
      const query = await readExactly(conn, length);
      if (!query) return;
      const reply = answer(query);
      if (!reply) return;
      const framed = new Uint8Array(2 + reply.length);
      framed[0] = reply.length >> 8;
      framed[1] = reply.length & 0xff;
      framed.set(reply, 2);
      for (let sent = 0; sent < framed.length;) sent += await conn.write(framed.subarray(sent));
    }
  } catch {
    // Reset, closed at the deadline or by close(): the connection is done.
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/** Reads exactly `count` bytes, or `undefined` at end of stream. */
async function readExactly(conn: Deno.Conn, count: number): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(count);
  for (let filled = 0; filled < count;) {
    const read = await conn.read(out.subarray(filled));
    if (read === null) return undefined;
    filled += read;
  }
  return out;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
