/**
 * Rate limit per source IP for incoming queries (sans-IO): a token bucket per
 * address, in a table of bounded size (the least recently seen source leaves
 * first), so a flood from one address costs the node little and cannot crowd
 * out the others' answers.
 * @module
 */

/** Options of a {@linkcode SourceLimiter}. */
export interface SourceLimiterOptions {
  /** Queries per second a source may sustain; default 20. */
  perSecond?: number;
  /** Burst a source may send at once; default 40. */
  burst?: number;
  /** Sources remembered; default 4096. */
  maxSources?: number;
  /** Current time in ms; default `Date.now`. */
  now?: () => number;
}

/** Token buckets keyed by source IP. */
export class SourceLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #maxSources: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** @param options Rates and bounds. */
  constructor(options: SourceLimiterOptions = {}) {
    this.#perSecond = options.perSecond ?? 20;
    this.#burst = options.burst ?? 40;
    this.#maxSources = options.maxSources ?? 4096;
    this.#now = options.now ?? Date.now;
  }

  /** Sources currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Whether one more query from `ip` may be answered now (takes a token if so). */
  allow(ip: string): boolean {
    const now = this.#now();
    const bucket = this.#buckets.get(ip) ?? { tokens: this.#burst, at: now };
    this.#buckets.delete(ip); // re-inserted last: the map's order is recency
    bucket.tokens = Math.min(
      this.#burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.#perSecond,
    );
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(ip, bucket);
    if (this.#buckets.size > this.#maxSources) {
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    return allowed;
  }
}
