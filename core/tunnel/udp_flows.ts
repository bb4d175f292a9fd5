/**
 * The client's table of UDP flows: one per local peer address, each with a
 * numeric id the server uses to keep one upstream socket per flow (sans-IO).
 * @module
 */

/** A flow idle this long is forgotten (most UDP protocols send keep-alives sooner). */
export const UDP_FLOW_IDLE_MS = 120_000;
/** At most this many live flows per session; the oldest idle one makes room. */
export const MAX_UDP_FLOWS = 1024;

/** One local peer's flow. */
export interface UdpFlow {
  id: number;
  hostname: string;
  port: number;
  lastActive: number;
}

/** Maps local peer addresses to flow ids and back. */
export class UdpFlowTable {
  readonly #byKey = new Map<string, UdpFlow>();
  readonly #byId = new Map<number, UdpFlow>();
  #nextId = 1;

  /** Number of live flows. */
  get size(): number {
    return this.#byKey.size;
  }

  /** The flow of a local peer, made on first sight. */
  flowFor(hostname: string, port: number, now: number): UdpFlow {
    const key = `${hostname}|${port}`;
    let flow = this.#byKey.get(key);
    if (!flow) {
      if (this.#byKey.size >= MAX_UDP_FLOWS) this.#evictOldest();
      flow = { id: this.#nextId, hostname, port, lastActive: now };
      // Ids are not reused within a session (2^32 flows would take years), so a
      // late reply can never reach a newer peer.
      this.#nextId = this.#nextId === 0xffffffff ? 1 : this.#nextId + 1;
      this.#byKey.set(key, flow);
      this.#byId.set(flow.id, flow);
    }
    flow.lastActive = now;
    return flow;
  }

  /** The flow with `id`, if still live. */
  byId(id: number, now: number): UdpFlow | undefined {
    const flow = this.#byId.get(id);
    if (flow) flow.lastActive = now;
    return flow;
  }

  /** Forgets flows idle for longer than `idleMs`; returns how many. */
  expire(now: number, idleMs = UDP_FLOW_IDLE_MS): number {
    let removed = 0;
    for (const [key, flow] of this.#byKey) {
      if (now - flow.lastActive > idleMs) {
        this.#byKey.delete(key);
        this.#byId.delete(flow.id);
        removed++;
      }
    }
    return removed;
  }

  #evictOldest(): void {
    let oldest: [string, UdpFlow] | undefined;
    for (const entry of this.#byKey) {
      if (!oldest || entry[1].lastActive < oldest[1].lastActive) oldest = entry;
    }
    if (oldest) {
      this.#byKey.delete(oldest[0]);
      this.#byId.delete(oldest[1].id);
    }
  }
}
