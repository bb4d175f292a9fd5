/**
 * Who is connected to a relay, by endpoint key (sans-IO). One connection per
 * key is active; a second connection with the same key takes over and the
 * first waits, becoming active again when the second leaves (as iroh's relay
 * does). Each active client remembers whom it sent to, so those peers can be
 * told when it leaves.
 * @module
 */

/** A connection as the registry sees it. */
export interface RegisteredClient {
  /** The client's endpoint key, as a map key ({@linkcode keyString}). */
  readonly key: string;
}

/**
 * Peers remembered per client for EndpointGone. A client that sends to more
 * distinct peers than this has the oldest forgotten (they just miss the notice).
 */
const MAX_REMEMBERED_PEERS = 4_096;

/** Connected clients by key. */
export class RelayRegistry<C extends RegisteredClient> {
  /** Per key: the connections, the last one active. */
  readonly #byKey = new Map<string, C[]>();
  readonly #sentTo = new Map<C, Set<string>>();

  /** Distinct keys connected. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The active connection of `key`. */
  active(key: string): C | undefined {
    const list = this.#byKey.get(key);
    return list?.[list.length - 1];
  }

  /**
   * Adds `client` as the active connection of its key.
   * @returns the connection it displaced, if any (to be told so).
   */
  add(client: C): C | undefined {
    const list = this.#byKey.get(client.key);
    if (!list) {
      this.#byKey.set(client.key, [client]);
      return undefined;
    }
    const displaced = list[list.length - 1];
    list.push(client);
    return displaced;
  }

  /**
   * Removes `client`.
   * @returns `gone`: whether its key has no connection left (peers get
   * EndpointGone), `peers`: the keys it sent to, and `reactivated`: the older
   * connection that is active again, if any.
   */
  remove(client: C): { gone: boolean; peers: string[]; reactivated?: C } {
    const peers = [...(this.#sentTo.get(client) ?? [])];
    this.#sentTo.delete(client);
    const list = this.#byKey.get(client.key);
    if (!list) return { gone: false, peers };
    const index = list.indexOf(client);
    if (index < 0) return { gone: false, peers };
    const wasActive = index === list.length - 1;
    list.splice(index, 1);
    if (list.length === 0) {
      this.#byKey.delete(client.key);
      return { gone: true, peers };
    }
    return { gone: false, peers, reactivated: wasActive ? list[list.length - 1] : undefined };
  }

  /** Records that `client` sent to `peerKey` (for EndpointGone later). */
  noteSent(client: C, peerKey: string): void {
    let peers = this.#sentTo.get(client);
    if (!peers) {
      peers = new Set();
      this.#sentTo.set(client, peers);
    }
    if (peers.has(peerKey)) return;
    if (peers.size >= MAX_REMEMBERED_PEERS) peers.delete(peers.values().next().value!);
    peers.add(peerKey);
  }
}

/** A 32-byte key as a compact map key (one character per byte). */
export function keyString(key: Uint8Array): string {
  let out = "";
  for (let i = 0; i < key.length; i++) out += String.fromCharCode(key[i]);
  return out;
}

/** The bytes of a {@linkcode keyString}. */
export function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}
