/**
 * How long to wait before trying again: exponential backoff with jitter, as
 * plain arithmetic (the random source is injected, so tests pin it).
 * @module
 */

/** First wait: a second, long enough not to hammer a peer that just went away. */
export const MIN_BACKOFF_MS = 1_000;
/**
 * Longest wait. 30 s keeps a long outage cheap for both sides while a peer that
 * comes back is found within half a minute.
 */
export const MAX_BACKOFF_MS = 30_000;

/** Options for {@linkcode Backoff}. */
export interface BackoffOptions {
  /** The first base wait. Default {@linkcode MIN_BACKOFF_MS}. */
  minMs?: number;
  /** The base wait stops doubling here. Default {@linkcode MAX_BACKOFF_MS}. */
  maxMs?: number;
  /** A number in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Waits that double from `minMs` up to `maxMs`. Each wait is drawn between half
 * the base and the base ("equal jitter"): many clients of a restarted server
 * spread out instead of coming back at the same instant, and no wait is
 * shorter than half of what the backoff asks for.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ random: () => 0.5 });
 * backoff.next(); // 750 (base 1,000 ms)
 * backoff.next(); // 1,500 (base 2,000 ms)
 * backoff.reset();
 * backoff.next(); // 750 again
 * ```
 */
export class Backoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #baseMs: number;

  /**
   * Starts at `minMs`.
   * @throws {RangeError} when `minMs` is not positive or `maxMs` is below it.
   */
  constructor(options: BackoffOptions = {}) {
    const minMs = options.minMs ?? MIN_BACKOFF_MS;
    const maxMs = options.maxMs ?? MAX_BACKOFF_MS;
    if (!(minMs > 0) || !(maxMs >= minMs)) {
      throw new RangeError(
        `Cannot create a backoff: need 0 < minMs <= maxMs, got ${minMs} and ${maxMs}`,
      );
    }
    this.#minMs = minMs;
    this.#maxMs = maxMs;
    this.#random = options.random ?? Math.random;
    this.#baseMs = minMs;
  }

  /** The base the next wait is drawn from. */
  get baseMs(): number {
    return this.#baseMs;
  }

  /** The next wait in milliseconds, in [base / 2, base]; then doubles the base (up to `maxMs`). */
  next(): number {
    const base = this.#baseMs;
    this.#baseMs = Math.min(base * 2, this.#maxMs);
    return base / 2 + this.#random() * base / 2;
  }

  /** Starts over from `minMs`. */
  reset(): void {
    this.#baseMs = this.#minMs;
  }
}
