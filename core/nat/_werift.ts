/**
 * The only file that knows werift-ice's internals. werift 0.2.3 is pinned in
 * deno.json; everything reached here beyond its typed surface is listed so an
 * upgrade knows what to re-check:
 * - `Connection.protocols` (private): one `StunProtocol` per host address,
 *   each owning one node:dgram socket bound to the wildcard address.
 * - `Connection.stunServer` (public field): the constructor replaces a missing
 *   STUN server with stun.l.google.com:19302, so it must be cleared afterwards.
 * - `UdpTransport.onData` (public field): wrapped to see our own datagrams
 *   together with their source address before werift consumes them.
 * - `UdpTransport.socket` (the node:dgram socket): its address gives the bind
 *   address/port, its `send` callback tells when a datagram has left.
 * - `Connection.checkStart` and `CandidatePair.state`: to check failed pairs again.
 *
 * werift-ice is imported lazily: its `debug` dependency enumerates all
 * environment variables at load time, which needs `--allow-env` (or
 * `--ignore-env`); a lazy import confines that to commands that use ICE.
 *
 * @module
 */

import { isIP } from "node:net";
import type { Candidate, Connection, StunProtocol } from "werift-ice";
import type { IceCandidate } from "./ice_candidate.ts";

/** The werift-ice module namespace. */
export type _Werift = typeof import("werift-ice");

/** A `[host, port]` address as werift passes them around. */
export type _Address = readonly [string, number];

/** A send callback arrives within a millisecond on a live socket; this only bounds a dead one. */
const SEND_CALLBACK_CAP_MS = 100;

let loading: Promise<_Werift> | undefined;

/** Loads werift-ice once. */
export function _loadWerift(): Promise<_Werift> {
  loading ??= import("werift-ice").catch((error) => {
    loading = undefined;
    if (error instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(
        "Cannot load the ICE library: it reads the environment at load time; " +
          "run with --allow-env, or --ignore-env (add --allow-env=DEBUG to keep DEBUG logging)",
        { cause: error },
      );
    }
    throw error;
  });
  return loading;
}

/**
 * Creates a werift agent that uses exactly `hostAddresses` as host candidates
 * and gathers nothing else: no interface enumeration, no STUN, no TURN, no TCP.
 * Pairs between a loopback and a non-loopback address are never formed: the
 * check would leave with a loopback source and only produce a stray
 * peer-reflexive candidate.
 */
export function _createConnection(
  werift: _Werift,
  controlling: boolean,
  hostAddresses: string[],
  isLoopback: (address: string) => boolean,
): Connection {
  const connection = new werift.Connection(controlling, {
    useIpv4: false,
    useIpv6: false,
    useTcp: false,
    additionalHostAddresses: hostAddresses,
    filterCandidatePair: (pair) =>
      isLoopback(pair.localCandidate.host) === isLoopback(pair.remoteCandidate.host),
  });
  connection.stunServer = undefined;
  return connection;
}

/** The per-address protocols (and sockets) of a werift agent. */
export function _protocolsOf(connection: Connection): StunProtocol[] {
  return (connection as unknown as { protocols: StunProtocol[] }).protocols;
}

/** The local address and port a protocol's socket is bound to, e.g. `["0.0.0.0", 50000]`. */
export function _boundAddress(protocol: StunProtocol): _Address {
  const { address, port } = protocol.transport.address;
  return [address, port];
}

/**
 * Routes datagrams accepted by `claim` to `handler` (with their source) and
 * everything else to werift as before.
 */
export function _interceptDatagrams(
  protocol: StunProtocol,
  claim: (data: Uint8Array) => boolean,
  handler: (data: Uint8Array, from: _Address) => void,
): void {
  const transport = protocol.transport;
  const original = transport.onData;
  transport.onData = (data, from) => {
    if (claim(data)) handler(data, from);
    else original(data, from);
  };
}

/**
 * Sends one datagram from a protocol's socket and resolves once the socket has
 * handed it to the kernel. werift's own `sendData` resolves before that, so a
 * datagram sent right before `close()` could be dropped; the last READY of the
 * handshake is exactly such a datagram.
 */
export function _sendDatagram(
  protocol: StunProtocol,
  data: Uint8Array,
  to: _Address,
): Promise<void> {
  return new Promise((resolve) => {
    // Should a socket closed meanwhile never call back, do not hang the caller.
    const cap = setTimeout(resolve, SEND_CALLBACK_CAP_MS);
    const done = () => {
      clearTimeout(cap);
      resolve();
    };
    try {
      protocol.transport.socket.send(data, to[1], to[0], done);
    } catch {
      done(); // socket already closed: nothing to wait for
    }
  });
}

/**
 * Starts a new check on every pair whose checks all went unanswered.
 *
 * werift gives a pair 5 sends over ~1.5 s, then leaves it failed for good
 * (RFC 8445 behaviour): under heavy loss, or when the peer starts checking
 * late (manual mode: a human pastes the answer), nothing is ever sent again
 * from this side, and a NAT in front of us never opens for the peer's checks.
 * str0m, which tunnel-rs uses, keeps checking until its own timeout; so do we.
 */
export function _recheckFailedPairs(werift: _Werift, connection: Connection): void {
  for (const pair of connection.checkList) {
    if (pair.state === werift.CandidatePairState.FAILED) pair.handle = connection.checkStart(pair);
  }
}

/** Builds a werift remote candidate from plain fields. */
export function _toWeriftCandidate(
  werift: _Werift,
  c: {
    foundation: string;
    component: number;
    priority: number;
    address: string;
    port: number;
    type: string;
    relatedAddress?: string;
    relatedPort?: number;
  },
): Candidate {
  return new werift.Candidate(
    c.foundation,
    c.component,
    "udp",
    c.priority,
    c.address,
    c.port,
    c.type,
    c.relatedAddress,
    c.relatedPort,
  );
}

/** Net permission to bind the wildcard address of each family in use; asked up front because
 * node:dgram reports a denied bind as an uncaught error that would end the process. */
export async function _checkBindPermission(hostAddresses: string[]): Promise<void> {
  const wildcards = new Set(
    hostAddresses.map((address) => (isIP(address) === 6 ? "[::]:0" : "0.0.0.0:0")),
  );
  for (const host of wildcards) {
    const descriptor = { name: "net", host } as const;
    let { state } = await Deno.permissions.query(descriptor);
    if (state === "prompt") ({ state } = await Deno.permissions.request(descriptor));
    if (state !== "granted") {
      throw new Deno.errors.NotCapable(
        `Cannot open ICE sockets: run with --allow-net (binds UDP on ${host})`,
      );
    }
  }
}

/** The host candidate of a protocol, as plain data. */
export function _hostCandidateOf(protocol: StunProtocol): IceCandidate {
  const c = protocol.localCandidate!;
  return {
    foundation: c.foundation,
    component: 1,
    transport: "udp",
    priority: c.priority,
    address: c.host,
    port: c.port,
    type: "host",
  };
}
