/**
 * Datagrams handed to a local QUIC socket in bursts no bigger than its receive
 * buffer holds, with a turn of the event loop between bursts.
 *
 * Why: quinn reads its UDP socket on Deno's one thread, and Deno's event loop
 * lets it run only when JavaScript has nothing ready to do. A relay connection
 * that catches up after a loss (TCP delivers the round trip it held back at
 * once) used to become hundreds of datagrams sent to the QUIC socket in one
 * go, of which the kernel kept about 90 (its default receive buffer) and
 * dropped the rest. A timer turn is what lets quinn read between bursts: an
 * awaited send or a MessageChannel message does not (measured: the right
 * namespace's drops stayed at 5,800-12,400 per run with either, and fell to
 * ~200 with a timer turn).
 * @module
 */

/** Datagrams sent before the next turn: below the ~90 a default receive buffer holds. */
export const PACED_BURST = 64;
/**
 * Bytes waiting beyond which datagrams are dropped, as a congested path would:
 * the relay's own cap per client (2 MiB), so a burst it delivered fits.
 */
export const PACED_MAX_QUEUED_BYTES = 2 << 20;

/**
 * Bytes several senders may hold together (a server's shims: one per relayed peer);
 * each sender adds what it queues and takes away what it sends.
 */
export class QueueBudget {
  /** Bytes queued by all senders sharing this budget. */
  used = 0;
  /** A budget of `max` bytes. */
  constructor(readonly max: number) {}
}

/** Options of {@linkcode PacedSender}. */
export interface PacedSenderOptions {
  /** Datagrams per burst. Default {@linkcode PACED_BURST}. */
  burst?: number;
  /** Bytes that may wait. Default {@linkcode PACED_MAX_QUEUED_BYTES}. */
  maxQueuedBytes?: number;
  /** Resolves on a later turn of the event loop. Default: a zero-delay timer. */
  nextTurn?: () => Promise<void>;
  /** A budget shared with other senders, checked as well as `maxQueuedBytes`. */
  shared?: QueueBudget;
}

/** A datagram queue drained in bursts; see the module documentation. */
export class PacedSender {
  readonly #send: (datagram: Uint8Array) => Promise<unknown>;
  readonly #burst: number;
  readonly #maxQueuedBytes: number;
  readonly #nextTurn: () => Promise<void>;
  readonly #shared: QueueBudget;
  #queue: Uint8Array[] = [];
  #head = 0;
  #bytes = 0;
  #draining = false;
  #dropped = 0;

  /** A sender that hands each datagram to `send` (whose failures are ignored, as UDP's are). */
  constructor(send: (datagram: Uint8Array) => Promise<unknown>, options: PacedSenderOptions = {}) {
    this.#send = send;
    this.#burst = options.burst ?? PACED_BURST;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? PACED_MAX_QUEUED_BYTES;
    this.#shared = options.shared ?? new QueueBudget(Infinity);
    this.#nextTurn = options.nextTurn ??
      (() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
  }

  /** Datagrams dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes waiting now. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /**
   * Sends `datagram` now, or queues a copy of it behind a burst (a copy, so a
   * small datagram never holds the large read buffer it is a view of).
   */
  push(datagram: Uint8Array): void {
    const shared = this.#shared;
    if (
      this.#bytes + datagram.length > this.#maxQueuedBytes ||
      shared.used + datagram.length > shared.max
    ) {
      this.#dropped++;
      return;
    }
    this.#queue.push(this.#draining ? datagram.slice() : datagram);
    this.#bytes += datagram.length;
    shared.used += datagram.length;
    if (!this.#draining) this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (;;) {
        const end = Math.min(this.#queue.length, this.#head + this.#burst);
        const sends: Promise<unknown>[] = [];
        for (; this.#head < end; this.#head++) {
          const datagram = this.#queue[this.#head];
          this.#bytes -= datagram.length;
          this.#shared.used -= datagram.length;
          sends.push(this.#send(datagram).catch(() => {}));
        }
        await Promise.all(sends);
        if (this.#head === this.#queue.length) break;
        // Drop what was sent before waiting, so a long backlog does not hold it.
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
        await this.#nextTurn();
      }
      this.#queue = [];
      this.#head = 0;
    } finally {
      this.#draining = false;
    }
  }
}
