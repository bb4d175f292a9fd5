/**
 * QUIC over a relay. Deno's QUIC endpoint owns its UDP socket, so the relay
 * path is a loopback shim under it: a local UDP socket that QUIC talks to,
 * whose datagrams travel as relay frames to the peer's key, and the other way
 * round. The relay sees only QUIC's ciphertext and the two keys.
 *
 * - Dialing: QUIC dials the shim's socket; the shim forwards to the server's key.
 * - Serving: for each client key the relay delivers from, a shim socket sends
 *   to the server's QUIC listener, which sees it as one more client address.
 * @module
 */
import { EndpointId, SecretKey } from "../identity/mod.ts";
import {
  congestionControlToward,
  dialQuic,
  type LinkedConnection,
  LinkState,
  type PathLink,
  RELAYED_IDLE_TIMEOUT_MS,
  withLink,
} from "../transport/mod.ts";
import { isLocalAddress } from "../net/mod.ts";
import { RelayClient, type RelayClientLog, type RelayRefusedError } from "./client.ts";
import type { WebSocketDial } from "./websocket_client.ts";
import { keyString } from "./registry.ts";
import { PacedSender, QueueBudget } from "./paced_sender.ts";

/** One buffer per shim socket: the largest UDP datagram plus one. */
const RECEIVE_BUFFER = 65_536;
/**
 * A served peer's shim closes after this long without packets: past the QUIC
 * idle timeout of relayed connections, so only dead connections lose theirs.
 * (During a relay outage QUIC still sends into the shim as its retransmission
 * timer fires, and the peer's own shim keeps its port: the connection goes on
 * from the same address once the relay is back.)
 */
const SHIM_IDLE_MS = RELAYED_IDLE_TIMEOUT_MS + 5_000;
/**
 * How long the shim outlives its connection, so QUIC's CONNECTION_CLOSE (sent
 * as the connection closes) still crosses the relay to the peer.
 */
const CLOSE_LINGER_MS = 1_000;
/** Peers served through the relay at once (each holds a local socket). */
const MAX_SHIMS = 1_024;
/**
 * Bytes all of a server's shims may hold waiting for QUIC together: 16 bursts of the
 * 2 MiB one may hold (1,024 shims at 2 MiB each would be 2 GiB).
 */
const SHIMS_MAX_QUEUED_BYTES = 32 << 20;

/** Options of {@linkcode dialViaRelay}. */
export interface DialViaRelayOptions {
  /** The relay the server is reachable at (its home relay). */
  relayUrl: string;
  /** The server's EndpointId: the relay address and the key QUIC pins. */
  serverId: EndpointId;
  /** ALPN of the protocol QUIC carries. */
  alpn: string;
  /** Our key at the relay. Default: a fresh one (clients need no lasting identity). */
  secretKey?: SecretKey;
  /** Sent to relays that require one, as `Authorization: Bearer`. */
  accessToken?: string;
  /** Give up on reaching the relay after this long. */
  timeoutMs?: number;
  /** Gives up once aborted (another path won), closing what it opened. */
  signal?: AbortSignal;
  /** Relay state changes. */
  log?: RelayClientLog;
  /** Opens the relay's TCP connection each time (see {@linkcode RelayClientOptions.dial}). */
  dial?: WebSocketDial;
  /**
   * Whether what the relay delivers reaches QUIC in paced bursts. Default: when
   * the relay is across a network (see {@linkcode quicFeed}).
   */
  paced?: boolean;
}

/**
 * Dials the server through a relay and returns a QUIC connection pinned to its
 * key, whose `link` tells when the relay connection is away (its idle timeout
 * outlasts a relay reconnecting: {@linkcode RELAYED_IDLE_TIMEOUT_MS}). Closing
 * the connection closes the relay client and the shim.
 * @throws {RelayRefusedError} or {@linkcode Error} when the relay cannot be
 * reached; {@linkcode ConnectError} when QUIC fails through it.
 */
export async function dialViaRelay(options: DialViaRelayOptions): Promise<LinkedConnection> {
  options.signal?.throwIfAborted();
  const shim = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const serverKey = options.serverId.bytes;
  const serverKeyString = keyString(serverKey);
  const keyOf = lastKeyString();
  let quicAddr: Deno.NetAddr | undefined;
  const link = new LinkState(false);
  const toQuic = quicFeed(
    options.paced ?? pacedToward(options.relayUrl),
    (datagram) => shim.send(datagram, quicAddr!),
  );
  const relay = RelayClient.connect({
    url: options.relayUrl,
    secretKey: options.secretKey ?? SecretKey.generate(),
    accessToken: options.accessToken,
    log: options.log,
    dial: options.dial,
    onStateChange: (connected) => link.set(connected),
    onDatagram(source, payload) {
      if (!quicAddr || keyOf(source) !== serverKeyString) return;
      toQuic.push(payload);
    },
  });
  const cleanup = () => {
    relay.close();
    try {
      shim.close();
    } catch { /* closed */ }
  };
  (async () => {
    const buffer = new Uint8Array(RECEIVE_BUFFER);
    try {
      for (;;) {
        const [data, from] = await shim.receive(buffer);
        quicAddr ??= from as Deno.NetAddr;
        relay.send(serverKey, data);
      }
    } catch { /* closed */ }
  })();
  const signal = options.signal;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  // Raced below while the relay is reached; dialQuic hears the signal itself.
  aborted.catch(() => {});
  try {
    await Promise.race([relay.ready(options.timeoutMs), aborted]);
    const addr = shim.addr as Deno.NetAddr;
    const conn = await dialQuic({
      signal,
      addrs: [{ hostname: addr.hostname, port: addr.port }],
      endpointId: options.serverId,
      alpn: options.alpn,
      timeoutMs: options.timeoutMs,
      idleTimeoutMs: RELAYED_IDLE_TIMEOUT_MS,
      // QUIC through the relay meets what the relay connection crosses: BBR when the
      // relay is across a network (80 ms, 0.5% loss: 2.6-3.1 MB/s up vs 1.4 with the
      // default), the default when it is on this machine (BBR halved the loopback
      // relay row, 22 vs 47 MB/s). docs/BENCHMARKS.md, "Congestion control per path".
      congestionControl: congestionControlToward(new URL(options.relayUrl).hostname),
      // The shim's loopback port is ours, not the user's: errors name the relay.
      describeAddress: () => `relay ${options.relayUrl}`,
      unreachableHint: "check that the server is running and uses this relay",
    });
    conn.closed.finally(() => {
      const timer = setTimeout(cleanup, CLOSE_LINGER_MS);
      Deno.unrefTimer(timer);
    });
    return withLink(conn, link);
  } catch (error) {
    cleanup();
    throw error;
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/** Options of {@linkcode serveViaRelay}. */
export interface ServeViaRelayOptions {
  /** The relay to be reachable at. */
  relayUrl: string;
  /** The server's key (its relay address; the same one QUIC presents). */
  secretKey: SecretKey;
  /** The port of the server's QUIC listener on this machine. */
  listenerPort: number;
  /**
   * The address the listener is bound to, when it is not a wildcard. Default
   * 127.0.0.1 (a `0.0.0.0` or dual-stack `::` listener receives it).
   */
  listenerHostname?: string;
  /** Sent to relays that require one, as `Authorization: Bearer`. */
  accessToken?: string;
  /** Relay state changes. */
  log?: RelayClientLog;
  /** Told when the relay connection comes and goes. */
  onStateChange?(connected: boolean): void;
  /** Told once when the relay refuses the server (it is not retried). */
  onRefused?(error: RelayRefusedError): void;
  /** As {@linkcode DialViaRelayOptions.paced}. */
  paced?: boolean;
  /** As {@linkcode DialViaRelayOptions.dial}. */
  dial?: WebSocketDial;
}

/** A server's presence at a relay. */
export interface RelayPresence {
  /** The relay client (connected state, `ready()`). */
  readonly relay: RelayClient;
  /** The relay connection as the link of the paths through it (the sessions' liveness). */
  readonly link: PathLink;
  /** Peers with a shim now. */
  readonly peers: number;
  /**
   * The relayed peer whose shim speaks from `address` (as the listener sees
   * it), or `undefined` when no shim of this presence has that address.
   */
  peerAt(address: { hostname: string; port: number }): EndpointId | undefined;
  /** Leaves the relay and closes every shim. */
  close(): void;
}

interface Shim {
  socket: Deno.DatagramConn;
  /** The peer's key, as the relay delivers it. */
  peer: Uint8Array;
  /** Where the relay's datagrams go to the listener. */
  toQuic: QuicFeed;
  lastActive: number;
}

/**
 * Makes a QUIC listener reachable through a relay: each client key the relay
 * delivers from gets a local socket that talks to the listener for it.
 */
export function serveViaRelay(options: ServeViaRelayOptions): RelayPresence {
  const shims = new Map<string, Shim>();
  const queued = new QueueBudget(SHIMS_MAX_QUEUED_BYTES);
  const paced = options.paced ?? pacedToward(options.relayUrl);
  const keyOf = lastKeyString();
  const listener: Deno.NetAddr = {
    transport: "udp",
    hostname: options.listenerHostname ?? "127.0.0.1",
    port: options.listenerPort,
  };
  // The shims talk to the listener from the same address family.
  const shimHost = listener.hostname.includes(":") ? "::1" : "127.0.0.1";
  const link = new LinkState(false);
  const closeShim = (key: string) => {
    const shim = shims.get(key);
    if (!shim) return;
    shims.delete(key);
    try {
      shim.socket.close();
    } catch { /* closed */ }
  };
  const openShim = (key: string, source: Uint8Array): Shim | undefined => {
    if (shims.size >= MAX_SHIMS) {
      // The least recently active peer makes room, as UDP flows do.
      let oldest: [string, Shim] | undefined;
      for (const entry of shims) {
        if (!oldest || entry[1].lastActive < oldest[1].lastActive) oldest = entry;
      }
      if (oldest) closeShim(oldest[0]);
    }
    const socket = Deno.listenDatagram({ transport: "udp", hostname: shimHost, port: 0 });
    const toQuic = quicFeed(paced, (datagram) => socket.send(datagram, listener), queued);
    const peer = source.slice();
    const shim = { socket, peer, toQuic, lastActive: Date.now() };
    shims.set(key, shim);
    (async () => {
      const buffer = new Uint8Array(RECEIVE_BUFFER);
      try {
        for (;;) {
          const [data] = await socket.receive(buffer);
          shim.lastActive = Date.now();
          relay.send(peer, data);
        }
      } catch {
        if (shims.get(key) === shim) shims.delete(key);
      }
    })();
    return shim;
  };
  const relay = RelayClient.connect({
    url: options.relayUrl,
    secretKey: options.secretKey,
    accessToken: options.accessToken,
    log: options.log,
    dial: options.dial,
    onStateChange: (connected) => {
      link.set(connected);
      options.onStateChange?.(connected);
    },
    onRefused: options.onRefused,
    onDatagram(source, payload) {
      const key = keyOf(source);
      const shim = shims.get(key) ?? openShim(key, source);
      if (!shim) return;
      shim.lastActive = Date.now();
      shim.toQuic.push(payload);
    },
    // A peer that left the relay (its endpoint-gone) keeps its shim: it may be
    // reconnecting, and its QUIC connection goes on from the same shim address
    // once it is back. A peer really gone has closed QUIC or goes silent, and its
    // shim idles out below.
  });
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, shim] of shims) if (now - shim.lastActive > SHIM_IDLE_MS) closeShim(key);
  }, SHIM_IDLE_MS / 3);
  Deno.unrefTimer(sweeper);
  return {
    relay,
    link,
    get peers() {
      return shims.size;
    },
    peerAt(address) {
      for (const shim of shims.values()) {
        const local = shim.socket.addr as Deno.NetAddr;
        if (local.port === address.port && sameHost(local.hostname, address.hostname)) {
          return new EndpointId(shim.peer);
        }
      }
      return undefined;
    },
    close() {
      clearInterval(sweeper);
      relay.close();
      for (const key of [...shims.keys()]) closeShim(key);
    },
  };
}

/** How the datagrams a relay delivers reach the local QUIC socket. */
interface QuicFeed {
  push(datagram: Uint8Array): void;
}

/**
 * Whether the feed from a relay at `relayUrl` into QUIC is paced
 * (paced_sender.ts): across a network, yes: a relay connection that recovers
 * from a loss delivers a round trip's worth at once, which the QUIC socket
 * cannot hold (80 ms RTT, 0.5% loss: 3.1-3.6 -> 8.1-10.8 MB/s). On this machine
 * or a LAN, no: nothing is held back there, and each pause between bursts costs
 * a timer turn (~2 ms here): the loopback relay row fell from 34-45 to 27-33
 * MB/s paced.
 */
function pacedToward(relayUrl: string): boolean {
  return !isLocalAddress(new URL(relayUrl).hostname);
}

/** The feed into QUIC: paced, or each datagram sent as it comes. */
function quicFeed(
  paced: boolean,
  send: (datagram: Uint8Array) => Promise<unknown>,
  shared?: QueueBudget,
): QuicFeed {
  if (paced) return new PacedSender(send, { shared });
  return { push: (datagram) => void send(datagram).catch(() => {}) };
}

/**
 * {@linkcode keyString}, remembering the last key it was given: the datagrams of
 * one batch frame arrive with the same `source` view, so one conversion serves all.
 */
function lastKeyString(): (key: Uint8Array) => string {
  let last: Uint8Array | undefined;
  let string = "";
  return (key) => {
    if (key !== last) {
      last = key;
      string = keyString(key);
    }
    return string;
  };
}

/** Whether two spellings name one loopback host (a dual-stack listener sees `::ffff:127.0.0.1`). */
function sameHost(a: string, b: string): boolean {
  const bare = (host: string) => host.replace(/^\[|\]$/g, "").replace(/^::ffff:/i, "");
  return bare(a) === bare(b);
}
