/**
 * The seam every kind of path meets: a dialer that reaches a peer by its key
 * at an address of its kind, giving up when told to. Kinds are registered, not
 * listed: `connectToServer` dials whatever addresses it is given through the
 * dialer registered for their kind.
 * @module
 */
import type { EndpointId } from "../identity/mod.ts";
import type { PathKindInfo, PeerConnection } from "../transport/mod.ts";

/** An address of some kind of path (a direct address list, a relay URL, ...). */
export interface PathAddress {
  /** The kind of path that reaches it; a dialer of that kind must be registered. */
  readonly kind: string;
}

/** Whom a path dials: the key the peer must prove, and the protocol to speak. */
export interface DialTarget {
  /** The peer's key, pinned by QUIC whatever carries it. */
  endpointId: EndpointId;
  /** ALPN of the protocol spoken on the connection. */
  alpn: string;
}

/** What a dialer made: the connection and how people should see its path. */
export interface DialedPath {
  /** The connection, authenticated to the target's key. */
  conn: PeerConnection;
  /** The path for people and the path table (an address, a relay URL). */
  label: string;
}

/** One kind of path, able to dial. */
export interface PathDialer<A extends PathAddress = PathAddress> {
  /** The kind it dials (registered with the transport's path kinds). */
  readonly kind: PathKindInfo;
  /** What an attempt is called in errors and logs, e.g. "relay https://relay.example/". */
  describe(address: A): string;
  /**
   * Dials `target` at `address`; rejects with `signal`'s reason once it aborts
   * (another path won), having closed whatever it had opened.
   */
  dial(target: DialTarget, address: A, options: { signal: AbortSignal }): Promise<DialedPath>;
}

const dialers = new Map<string, PathDialer>();

/**
 * Makes `dialer` the one for its kind; returns it. A kind's file calls this
 * once, and one import of that file registers it.
 * @throws {Error} when another dialer has that kind.
 */
export function registerPathDialer<A extends PathAddress>(dialer: PathDialer<A>): PathDialer<A> {
  const known = dialers.get(dialer.kind.kind);
  if (known && known !== (dialer as unknown as PathDialer)) {
    throw new Error(`a dialer for '${dialer.kind.kind}' paths is already registered`);
  }
  dialers.set(dialer.kind.kind, dialer as unknown as PathDialer);
  return dialer;
}

/**
 * The dialer for `address`'s kind.
 * @throws {Error} when none is registered for it.
 */
export function dialerFor(address: PathAddress): PathDialer {
  const dialer = dialers.get(address.kind);
  if (!dialer) throw new Error(`no dialer for '${address.kind}' paths is registered`);
  return dialer;
}

/** Dials `target` at `address` through its kind's dialer. */
export function dialPath(
  target: DialTarget,
  address: PathAddress,
  options: { signal: AbortSignal },
): Promise<DialedPath> {
  return dialerFor(address).dial(target, address, options);
}
