/**
 * Received datagrams waiting to be read, bounded in bytes. Private to the
 * transport folder.
 * @module
 */

/**
 * A byte-bounded first-in, first-out queue of datagrams that drops the oldest
 * when full, as quinn does with its datagram receive buffer: a reader that falls
 * behind gets the freshest data, and a sender never waits.
 */
export class DatagramQueue {
  readonly #limitBytes: number;
  #items: Uint8Array[] = [];
  #bytes = 0;
  #waiters: ((datagram: Uint8Array | null) => void)[] = [];
  #ended = false;
  #dropped = 0;

  /** A queue holding at most `limitBytes` of unread datagrams. */
  constructor(limitBytes: number) {
    this.#limitBytes = limitBytes;
  }

  /** Datagrams dropped so far to stay within the bound. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Delivers `datagram` to a waiting reader or queues it, dropping the oldest to fit. */
  push(datagram: Uint8Array): void {
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter) return waiter(datagram);
    this.#items.push(datagram);
    this.#bytes += datagram.length;
    while (this.#bytes > this.#limitBytes) {
      this.#bytes -= this.#items.shift()!.length;
      this.#dropped++;
    }
  }

  /** The next datagram, or `null` once the queue has ended. */
  shift(): Promise<Uint8Array | null> {
    const next = this.#items.shift();
    if (next) {
      this.#bytes -= next.length;
      return Promise.resolve(next);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the queue: unread datagrams are dropped and every reader gets `null`. */
  end(): void {
    this.#ended = true;
    this.#items = [];
    this.#bytes = 0;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }
}
