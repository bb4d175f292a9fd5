/**
 * What a relay holds of messages still arriving (sans-IO: the caller asks
 * before it buffers and says when it lets go). A WebSocket message is read
 * whole before the relay acts on it, so a client that sends one slowly makes
 * the relay hold what has come of it: one frame's payload (allocated at its
 * declared size when its header arrives) and the fragments before it. The
 * message cap bounds this per client; this budget bounds it for all clients
 * together, so 10,000 clients trickling a message each cannot add up to
 * gigabytes. A client whose reservation would take the total over
 * {@linkcode ReceiveBudgetLimits.total} is refused it, and is closed by its
 * owner: it could only wait, holding what it has, for others to finish.
 * @module
 */

/** The caps of a {@linkcode ReceiveBudget}. */
export interface ReceiveBudgetLimits {
  /** Bytes held for messages still arriving, for all clients together. */
  total: number;
}

/**
 * The relay's cap: 64 MiB, a quarter of its datagram send total. After the
 * handshake a message is at most 64 KiB and 8 bytes (iroh's packet limit), and
 * one held is at most twice that with its fragments: 64 MiB is ~500 clients
 * holding the most one can at once, where honest ones hold a message only
 * between the reads that bring it (10,000 clients each amid a 1,500-byte
 * QUIC packet hold 15 MiB).
 */
export const DEFAULT_RECEIVE_BUDGET: Readonly<ReceiveBudgetLimits> = Object.freeze({
  total: 64 << 20,
});

/** Bytes held for messages still arriving, for the whole relay. */
export class ReceiveBudget {
  /** The cap enforced. */
  readonly limits: Readonly<ReceiveBudgetLimits>;
  #held = 0;

  /**
   * Starts with nothing held.
   * @throws {RangeError} unless the cap is a positive integer.
   */
  constructor(limits: ReceiveBudgetLimits = DEFAULT_RECEIVE_BUDGET) {
    if (!Number.isInteger(limits.total) || limits.total < 1) {
      throw new RangeError(
        `Invalid receive budget total=${limits.total}: must be a positive integer`,
      );
    }
    this.limits = Object.freeze({ ...limits });
  }

  /** Bytes held for every client together. */
  get held(): number {
    return this.#held;
  }

  /** The account of one new client, whose bytes count toward this total. */
  client(): ClientReceiveBudget {
    return new ClientReceiveBudget(
      this.limits.total,
      (delta) => this.#held += delta,
      () => this.#held,
    );
  }
}

/**
 * One client's bytes held for messages still arriving. Each byte held must be
 * freed once (or the client released); a call after
 * {@linkcode ClientReceiveBudget.release} does nothing.
 */
export class ClientReceiveBudget {
  readonly #total: number;
  readonly #addToTotal: (delta: number) => void;
  readonly #totalHeld: () => number;
  #held = 0;
  #released = false;

  /** Use {@linkcode ReceiveBudget.client}. */
  constructor(total: number, addToTotal: (delta: number) => void, totalHeld: () => number) {
    this.#total = total;
    this.#addToTotal = addToTotal;
    this.#totalHeld = totalHeld;
  }

  /** Bytes this client holds. */
  get held(): number {
    return this.#held;
  }

  /**
   * Reserves `bytes` before they are buffered.
   * @returns whether they fit the total; when not, nothing is reserved.
   */
  tryHold(bytes: number): boolean {
    if (this.#released) return false;
    if (this.#totalHeld() + bytes > this.#total) return false;
    this.#held += bytes;
    this.#addToTotal(bytes);
    return true;
  }

  /** Gives back `bytes` held earlier (the message was delivered or dropped). */
  free(bytes: number): void {
    if (this.#released) return;
    this.#held -= bytes;
    this.#addToTotal(-bytes);
  }

  /** The connection is gone: what it held leaves the total. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#addToTotal(-this.#held);
    this.#held = 0;
  }
}
