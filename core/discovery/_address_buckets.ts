/**
 * The pkarr store's write rate per client address (sans-IO: time comes in).
 * Each network gets a token bucket of writes; one that empties its bucket is
 * marked as flooding for a while, which makes the records it writes the first
 * to go when the store is full (see `_record_table.ts`).
 * @module
 */

/** Writes in a burst from one address: a few dozen servers behind one NAT starting at once. */
export const ADDRESS_WRITE_BURST = 20;
/**
 * Writes per second from one address, sustained. A server publishes every 5
 * minutes (and when a relay connection comes back), so 1/s serves hundreds of
 * servers behind one address, and holds a flood from it to 3,600 writes an hour.
 */
export const ADDRESS_WRITES_PER_SECOND = 1;
/**
 * How long an address stays marked as flooding after it last hit its limit:
 * the shortest time a record is kept, so every record written during a flood
 * can be replaced before it would have expired anyway.
 */
export const FLOOD_MEMORY_MS = 15 * 60_000;
/**
 * Addresses tracked at once. The least recently seen is forgotten first (it
 * then starts again with a full bucket); at ~150 bytes each this is ~10 MB.
 */
export const MAX_TRACKED_ADDRESSES = 65_536;

interface Bucket {
  tokens: number;
  last: number;
  floodingUntil: number;
}

/** Per-network write buckets and flood marks. */
export class AddressBuckets {
  // Insertion order is last use: a bucket is re-inserted each time it is charged.
  readonly #buckets = new Map<string, Bucket>();
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #capacity: number;

  /**
   * @param limits Burst and sustained rate (defaults above) and how many networks to track.
   * @throws {RangeError} unless each is positive.
   */
  constructor(limits: { burst?: number; perSecond?: number; capacity?: number } = {}) {
    this.#burst = limits.burst ?? ADDRESS_WRITE_BURST;
    this.#perSecond = limits.perSecond ?? ADDRESS_WRITES_PER_SECOND;
    this.#capacity = limits.capacity ?? MAX_TRACKED_ADDRESSES;
    if (!(this.#burst >= 1 && this.#perSecond > 0 && this.#capacity >= 1)) {
      throw new RangeError(
        `Cannot limit writes: burst ${this.#burst}, rate ${this.#perSecond}/s and capacity ${this.#capacity} must be positive`,
      );
    }
  }

  /** Networks tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one write from `network`'s bucket at `now` (ms).
   * @returns `false` when the bucket is empty: the write is refused and the
   * network is marked as flooding until {@linkcode FLOOD_MEMORY_MS} from now.
   */
  take(network: string, now: number): boolean {
    let bucket = this.#buckets.get(network);
    if (bucket) {
      this.#buckets.delete(network);
      bucket.tokens = Math.min(
        this.#burst,
        bucket.tokens + Math.max(0, now - bucket.last) / 1000 * this.#perSecond,
      );
      bucket.last = now;
    } else {
      if (this.#buckets.size >= this.#capacity) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      bucket = { tokens: this.#burst, last: now, floodingUntil: -Infinity };
    }
    this.#buckets.set(network, bucket);
    if (bucket.tokens < 1) {
      bucket.floodingUntil = now + FLOOD_MEMORY_MS;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  /** Whether `network` hit its limit within the last {@linkcode FLOOD_MEMORY_MS}. */
  isFlooding(network: string, now: number): boolean {
    return (this.#buckets.get(network)?.floodingUntil ?? -Infinity) > now;
  }
}
