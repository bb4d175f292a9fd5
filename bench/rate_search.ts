/** Options for {@linkcode RateSearch}. */
export interface RateSearchOptions {
  /** Lowest rate searched (assumed to pass; never probed unless it is the answer's bound). */
  low: number;
  /** Highest rate searched; probed first, and the answer when it passes. */
  high: number;
  /** Probes at most. */
  maxProbes: number;
}

/** One probe: the rate offered and whether it passed. */
export interface RateProbe {
  /** Offered rate, in the caller's unit. */
  rate: number;
  /** Whether the path kept up at this rate (e.g. under 1% loss). */
  passed: boolean;
}

/**
 * Bounded search for the highest rate a path keeps up with, as plain state (the caller
 * runs each probe): `high` first, then bisection in log space between the highest
 * rate that passed (or `low`) and the lowest that failed. Log space because rates
 * span two decades and the precision wanted is relative: with `low` 10, `high` 1000
 * and 6 probes, the answer is within about 16% of the true limit.
 *
 * @example
 * ```ts
 * const search = new RateSearch({ low: 10, high: 1000, maxProbes: 6 });
 * for (let rate = search.next(); rate !== undefined; rate = search.next()) {
 *   search.record(rate, rate <= 420); // a path that keeps up to 420
 * }
 * search.best; // the highest passing probe, 365 here
 * ```
 */
export class RateSearch {
  readonly #options: RateSearchOptions;
  readonly #probes: RateProbe[] = [];
  #passed: number | undefined;
  #failed: number | undefined;

  /** @throws {RangeError} unless 0 < low < high and maxProbes >= 1. */
  constructor(options: RateSearchOptions) {
    const { low, high, maxProbes } = options;
    if (!(low > 0 && low < high) || !(Number.isInteger(maxProbes) && maxProbes >= 1)) {
      throw new RangeError(
        `Cannot search rates: need 0 < low < high and maxProbes >= 1 (got ${low}, ${high}, ${maxProbes})`,
      );
    }
    this.#options = { ...options };
  }

  /** The next rate to probe (rounded to an integer), or `undefined` when done. */
  next(): number | undefined {
    if (this.#probes.length >= this.#options.maxProbes) return undefined;
    if (this.#failed === undefined) {
      return this.#passed === undefined ? this.#options.high : undefined;
    }
    const floor = this.#passed ?? this.#options.low;
    const rate = Math.round(Math.sqrt(floor * this.#failed));
    // Adjacent integers: nothing left between them to tell apart.
    return rate > floor && rate < this.#failed ? rate : undefined;
  }

  /** Records a probe's outcome (any rate, though normally the one `next()` gave). */
  record(rate: number, passed: boolean): void {
    this.#probes.push({ rate, passed });
    if (passed) this.#passed = Math.max(this.#passed ?? rate, rate);
    else this.#failed = Math.min(this.#failed ?? rate, rate);
  }

  /** Highest rate that passed, or `undefined` when none did. */
  get best(): number | undefined {
    return this.#passed;
  }

  /** Lowest rate that failed, or `undefined` when none did. */
  get lowestFailed(): number | undefined {
    return this.#failed;
  }

  /** The probes so far, in order. */
  get probes(): readonly RateProbe[] {
    return [...this.#probes];
  }
}
