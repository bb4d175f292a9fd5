/**
 * The hand-off between the loops that receive packets and the one consumer
 * that takes them: whatever arrived since the last take, as one batch, so a
 * busy consumer pays one await per batch rather than one per packet.
 * @module
 */

/**
 * Packets waiting at most; more are dropped. Like a NIC's ring: a consumer that
 * falls this far behind (about 6 MB of 1,420-byte packets) is better served by
 * loss, which TCP answers by slowing down, than by growing memory.
 */
export const MAX_WAITING_PACKETS = 4_096;

/** Packets pushed by producers, taken in batches by one consumer, until {@linkcode end}. */
export class PacketBatches {
  #waiting: Uint8Array[] = [];
  #waiter: ((batch: Uint8Array[] | null) => void) | undefined;
  #ended = false;
  /** Packets dropped because the consumer fell behind. */
  dropped = 0;

  /** Adds a packet (dropped when the queue is full or ended). */
  push(packet: Uint8Array): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter([packet]);
      return;
    }
    if (this.#waiting.length >= MAX_WAITING_PACKETS) {
      this.dropped++;
      return;
    }
    this.#waiting.push(packet);
  }

  /** Everything waiting (at least one packet), or `null` once ended and drained. */
  take(): Promise<Uint8Array[] | null> {
    if (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      return Promise.resolve(batch);
    }
    if (this.#ended) return Promise.resolve(null);
    if (this.#waiter) return Promise.reject(new Error("PacketBatches has one consumer"));
    return new Promise((resolve) => this.#waiter = resolve);
  }

  /** Ends the queue: the consumer gets what is left, then `null`. */
  end(): void {
    this.#ended = true;
    this.#waiter?.(null);
    this.#waiter = undefined;
  }
}

/** Bytes in a batch of packets (for a session's counters). */
export function batchBytes(packets: readonly Uint8Array[]): number {
  let total = 0;
  for (const packet of packets) total += packet.length;
  return total;
}
