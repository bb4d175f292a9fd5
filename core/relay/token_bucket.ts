/**
 * A token bucket over bytes (sans-IO: time comes in). Used for the relay's
 * optional per-client receive rate limit.
 * @module
 */

/** Allows `rate` bytes per second on average, bursts up to `burst` bytes. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;

  /**
   * A full bucket.
   * @throws {RangeError} unless rate and burst are positive.
   */
  constructor(rate: number, burst: number, now: number) {
    if (!(rate > 0) || !(burst > 0)) {
      throw new RangeError(`Invalid rate limit ${rate} B/s, burst ${burst} B: must be positive`);
    }
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes `bytes` at `now` (ms) if the bucket holds them; `false` (nothing taken) otherwise. */
  take(bytes: number, now: number): boolean {
    const elapsed = Math.max(0, now - this.#last) / 1000;
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#rate);
    if (bytes > this.#tokens) return false;
    this.#tokens -= bytes;
    return true;
  }
}
