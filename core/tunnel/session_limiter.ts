/**
 * Counts a server's concurrent sessions against `--max-sessions`.
 * @module
 */

/** A counting semaphore that refuses instead of waiting. */
export class SessionLimiter {
  /** Slots in all. */
  readonly max: number;
  #active = 0;

  /**
   * Starts with every slot free.
   * @throws {RangeError} unless `max` is a positive integer.
   */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Invalid max sessions ${max}: must be a positive integer`);
    }
    this.max = max;
  }

  /** Sessions now open. */
  get active(): number {
    return this.#active;
  }

  /** Takes a slot; `false` when all are taken. */
  tryAcquire(): boolean {
    if (this.#active >= this.max) return false;
    this.#active++;
    return true;
  }

  /** Gives a slot back. */
  release(): void {
    if (this.#active > 0) this.#active--;
  }
}
