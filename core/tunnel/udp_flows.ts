/**
 * The table of a session's UDP flows, the same on both sides (sans-IO): flows
 * by id, each with what its side keeps for it (the client: the local peer's
 * address; the server: the socket towards the source). One policy at the
 * limit: the least recently active flow is closed to make room.
 * @module
 */

/** A flow idle this long is forgotten (most UDP protocols send keep-alives sooner). */
export const UDP_FLOW_IDLE_MS = 120_000;
/** At most this many live flows per session; the least recently active one makes room. */
export const MAX_UDP_FLOWS = 1024;

/** One flow and what its side keeps for it. */
export interface UdpFlow<T> {
  /** The flow's id on the wire (never reused within a session). */
  readonly id: number;
  /** What this side keeps for the flow. */
  readonly value: T;
  /** When a datagram last went either way (ms). */
  lastActive: number;
}

/** Options of a {@linkcode UdpFlowTable}. */
export interface UdpFlowTableOptions<T> {
  /** Live flows at most. Default {@linkcode MAX_UDP_FLOWS}. */
  limit?: number;
  /** Called once for every flow that leaves the table (evicted, expired, cleared). */
  onClose?: (flow: UdpFlow<T>) => void;
}

/** A session's UDP flows, by id. */
export class UdpFlowTable<T> {
  readonly #flows = new Map<number, UdpFlow<T>>();
  readonly #limit: number;
  readonly #onClose: (flow: UdpFlow<T>) => void;

  /** An empty table. */
  constructor(options: UdpFlowTableOptions<T> = {}) {
    this.#limit = options.limit ?? MAX_UDP_FLOWS;
    this.#onClose = options.onClose ?? (() => {});
  }

  /** Number of live flows. */
  get size(): number {
    return this.#flows.size;
  }

  /** The flow with `id`, if live; marks it active at `now`. */
  get(id: number, now: number): UdpFlow<T> | undefined {
    const flow = this.#flows.get(id);
    if (flow) flow.lastActive = now;
    return flow;
  }

  /**
   * Adds a flow, first closing the least recently active one when the table is
   * full.
   */
  add(id: number, value: T, now: number): UdpFlow<T> {
    if (this.#flows.size >= this.#limit) this.#evictLeastRecentlyActive();
    const flow = { id, value, lastActive: now };
    this.#flows.set(id, flow);
    return flow;
  }

  /** Closes the flow with `id`, if live. */
  delete(id: number): void {
    const flow = this.#flows.get(id);
    if (!flow) return;
    this.#flows.delete(id);
    this.#onClose(flow);
  }

  /**
   * Closes `flow` if it is still the live flow of its id (a flow that was
   * evicted and replaced under the same id stays).
   */
  remove(flow: UdpFlow<T>): void {
    if (this.#flows.get(flow.id) === flow) this.delete(flow.id);
  }

  /** Closes flows idle for longer than `idleMs`; returns how many. */
  expire(now: number, idleMs = UDP_FLOW_IDLE_MS): number {
    let removed = 0;
    for (const flow of [...this.#flows.values()]) {
      if (now - flow.lastActive > idleMs) {
        this.delete(flow.id);
        removed++;
      }
    }
    return removed;
  }

  /** Closes every flow. */
  clear(): void {
    for (const id of [...this.#flows.keys()]) this.delete(id);
  }

  #evictLeastRecentlyActive(): void {
    let oldest: UdpFlow<T> | undefined;
    for (const flow of this.#flows.values()) {
      if (!oldest || flow.lastActive < oldest.lastActive) oldest = flow;
    }
    if (oldest) this.delete(oldest.id);
  }
}

/**
 * The client's side: one flow per local peer address, with ids handed out in
 * order and never reused within a session, so a late reply can never reach a
 * newer peer.
 */
export class LocalPeerFlows {
  readonly #byPeer = new Map<string, UdpFlow<{ hostname: string; port: number }>>();
  readonly #table: UdpFlowTable<{ hostname: string; port: number }>;
  #nextId = 1;

  /** An empty table holding at most `limit` flows. */
  constructor(limit = MAX_UDP_FLOWS) {
    this.#table = new UdpFlowTable({
      limit,
      onClose: (flow) => this.#byPeer.delete(peerKey(flow.value.hostname, flow.value.port)),
    });
  }

  /** Number of live flows. */
  get size(): number {
    return this.#table.size;
  }

  /** The flow of a local peer, made on first sight. */
  flowFor(
    hostname: string,
    port: number,
    now: number,
  ): UdpFlow<{ hostname: string; port: number }> {
    const key = peerKey(hostname, port);
    const known = this.#byPeer.get(key);
    if (known) {
      known.lastActive = now;
      return known;
    }
    const flow = this.#table.add(this.#nextId, { hostname, port }, now);
    // 2^32 flows would take years: wrapping cannot reach a live id in practice.
    this.#nextId = this.#nextId === 0xffffffff ? 1 : this.#nextId + 1;
    this.#byPeer.set(key, flow);
    return flow;
  }

  /** The flow with `id`, if still live. */
  byId(id: number, now: number): UdpFlow<{ hostname: string; port: number }> | undefined {
    return this.#table.get(id, now);
  }

  /** Forgets flows idle for longer than `idleMs`; returns how many. */
  expire(now: number, idleMs = UDP_FLOW_IDLE_MS): number {
    return this.#table.expire(now, idleMs);
  }
}

function peerKey(hostname: string, port: number): string {
  return `${hostname}|${port}`;
}
