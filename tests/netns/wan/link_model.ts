/**
 * One direction of an emulated WAN link, sans-IO: frames go in with the time they
 * arrived, and the model says which leave when. It stands in for Linux's netem (which
 * this kernel lacks) inside the delay line between two namespaces; the delay line owns
 * the sockets and the clock, this owns the decisions.
 *
 * What happens to an offered frame, in this order:
 * 1. **Loss**: with probability `loss` it is dropped, as if lost before the bottleneck
 *    (it costs no link time).
 * 2. **Rate cap and drop-tail queue**: with a rate, the link serializes one frame after
 *    another (`bytes * 8 / rate` seconds each). A frame that would bring the bytes not
 *    yet serialized (its own included) above `queueBytes` is dropped.
 * 3. **Delay**: once serialized it travels for `delayUs`, plus or minus up to
 *    `jitterUs` drawn uniformly. Unless `reorder` is set, a frame never leaves before
 *    the frame ahead of it (jitter then bunches frames instead of swapping them).
 *
 * Times are microseconds of any clock that never goes back (`performance.now() * 1000`
 * in the delay line); pass them in non-decreasing order. Frames are opaque values of
 * type `F` with their size given beside them, so the delay line may pass slot numbers
 * of a preallocated buffer and allocate nothing per frame: pending frames sit in a ring
 * that grows by doubling and is never shrunk.
 *
 * ```ts
 * import { LinkModel } from "./link_model.ts";
 * import { seededRandom } from "./seeded_random.ts";
 *
 * const link = new LinkModel<Uint8Array>({
 *   delayUs: 40_000, // 40 ms one way
 *   loss: 0.005,
 *   rateBitsPerSecond: 100e6,
 *   queueBytes: 256 * 1024,
 *   random: seededRandom(1),
 * });
 * const frame = new Uint8Array(1514);
 * link.offer(frame, frame.length, 0);
 * link.nextDepartureUs(); // 40121.12 unless the frame was lost
 * link.take(40_200); // the frame
 * ```
 * @module
 */

/** Settings of a {@link LinkModel}. Every field is optional; the default link is a wire. */
export interface LinkModelOptions {
  /** One-way delay in microseconds. Default 0. */
  delayUs?: number;
  /** Each frame's delay is drawn uniformly from `delayUs ± jitterUs` (never below 0). Default 0. */
  jitterUs?: number;
  /** Let jitter reorder frames. Default false: frames leave in the order they came. */
  reorder?: boolean;
  /** Probability in [0, 1] that a frame is lost, each frame independently. Default 0. */
  loss?: number;
  /** Rate of the bottleneck in bits per second; 0 (the default) is unlimited. */
  rateBitsPerSecond?: number;
  /**
   * Size of the drop-tail queue in front of the bottleneck, in bytes not yet serialized.
   * Only with a rate. Default: what the rate carries in 100 ms.
   */
  queueBytes?: number;
  /** Source of randomness in [0, 1), like `Math.random` (the default); see `seededRandom()`. */
  random?: () => number;
  /** Frames the ring holds before its first growth. Default 1024. */
  initialCapacity?: number;
}

/** What {@link LinkModel.offer} did with a frame. */
export type OfferOutcome = "queued" | "lost" | "overflow";

/** Running totals of a {@link LinkModel}; the object is updated in place. */
export interface LinkCounters {
  /** Frames offered. */
  offered: number;
  /** Frames dropped by random loss. */
  lost: number;
  /** Frames dropped because the queue was full. */
  overflowed: number;
  /** Frames handed out by `take()`. */
  departed: number;
  /** Bytes handed out by `take()`. */
  departedBytes: number;
}

// A buffer a home router or a small ISP queue holds is commonly tens to a few hundred
// milliseconds of its rate; 100 ms is in the middle and keeps bufferbloat visible.
const DEFAULT_QUEUE_SECONDS = 0.1;
// Enough for ~1 ms of a 10 Gbit/s link's full frames before the ring first grows.
const DEFAULT_CAPACITY = 1024;

/** One direction of an emulated link: loss, rate cap with drop-tail queue, delay, jitter. */
export class LinkModel<F> {
  /** Running totals, updated in place. */
  readonly counters: LinkCounters = {
    offered: 0,
    lost: 0,
    overflowed: 0,
    departed: 0,
    departedBytes: 0,
  };
  readonly #delayUs: number;
  readonly #jitterUs: number;
  readonly #reorder: boolean;
  readonly #loss: number;
  readonly #rate: number;
  readonly #queueBytes: number;
  readonly #random: () => number;
  // The ring: capacity is a power of two, so `& #mask` wraps an index.
  #frames: (F | undefined)[];
  #sizes: Float64Array;
  #departures: Float64Array;
  #mask: number;
  #head = 0;
  #count = 0;
  /** When the bottleneck finishes serializing the last frame it accepted. */
  #busyUntilUs = 0;
  /** Departure of the last frame queued: without `reorder`, nothing leaves before it. */
  #lastDepartureUs = 0;

  /**
   * @throws {RangeError} for a negative delay, jitter, rate or queue, or a loss outside [0, 1].
   */
  constructor(options: LinkModelOptions = {}) {
    const delayUs = options.delayUs ?? 0;
    const jitterUs = options.jitterUs ?? 0;
    const loss = options.loss ?? 0;
    const rate = options.rateBitsPerSecond ?? 0;
    const fail = (what: string, value: number) =>
      new RangeError(`Cannot create a link model: ${what}, got ${value}`);
    if (!(delayUs >= 0)) throw fail("delayUs must be 0 or more", delayUs);
    if (!(jitterUs >= 0)) throw fail("jitterUs must be 0 or more", jitterUs);
    if (!(loss >= 0 && loss <= 1)) throw fail("loss must be in [0, 1]", loss);
    if (!(rate >= 0)) throw fail("rateBitsPerSecond must be 0 or more", rate);
    const queueBytes = options.queueBytes ?? rate / 8 * DEFAULT_QUEUE_SECONDS;
    if (!(queueBytes >= 0)) throw fail("queueBytes must be 0 or more", queueBytes);
    this.#delayUs = delayUs;
    this.#jitterUs = jitterUs;
    this.#reorder = options.reorder ?? false;
    this.#loss = loss;
    this.#rate = rate;
    this.#queueBytes = queueBytes;
    this.#random = options.random ?? Math.random;
    let capacity = 1;
    while (capacity < (options.initialCapacity ?? DEFAULT_CAPACITY)) capacity *= 2;
    this.#frames = new Array(capacity).fill(undefined);
    this.#sizes = new Float64Array(capacity);
    this.#departures = new Float64Array(capacity);
    this.#mask = capacity - 1;
  }

  /** Frames waiting to leave. */
  get pending(): number {
    return this.#count;
  }

  /** Bytes the bottleneck has accepted but not yet serialized at `nowUs` (0 without a rate). */
  backlogBytes(nowUs: number): number {
    if (this.#rate === 0 || this.#busyUntilUs <= nowUs) return 0;
    return (this.#busyUntilUs - nowUs) * this.#rate / 8e6;
  }

  /**
   * Hands the link a frame of `bytes` bytes that arrived at `nowUs`.
   *
   * @returns "queued" (it will leave at some `nextDepartureUs()`), "lost" (random loss)
   *   or "overflow" (the drop-tail queue was full). Dropped frames are not kept.
   */
  offer(frame: F, bytes: number, nowUs: number): OfferOutcome {
    this.counters.offered++;
    if (this.#loss > 0 && this.#random() < this.#loss) {
      this.counters.lost++;
      return "lost";
    }
    let sentUs = nowUs;
    if (this.#rate > 0) {
      if (this.backlogBytes(nowUs) + bytes > this.#queueBytes) {
        this.counters.overflowed++;
        return "overflow";
      }
      const startUs = Math.max(nowUs, this.#busyUntilUs);
      sentUs = this.#busyUntilUs = startUs + bytes * 8e6 / this.#rate;
    }
    let delayUs = this.#delayUs;
    if (this.#jitterUs > 0) {
      delayUs = Math.max(0, delayUs + (2 * this.#random() - 1) * this.#jitterUs);
    }
    let departureUs = sentUs + delayUs;
    if (!this.#reorder) departureUs = Math.max(departureUs, this.#lastDepartureUs);
    this.#lastDepartureUs = Math.max(this.#lastDepartureUs, departureUs);
    this.#push(frame, bytes, departureUs);
    return "queued";
  }

  /** When the next frame leaves (microseconds), or `Infinity` when none is pending. */
  nextDepartureUs(): number {
    return this.#count === 0 ? Infinity : this.#departures[this.#head];
  }

  /**
   * The next frame if it is due by `nowUs`, removed from the link; otherwise undefined.
   * Call it in a loop to release every due frame, oldest departure first.
   */
  take(nowUs: number): F | undefined {
    if (this.#count === 0 || this.#departures[this.#head] > nowUs) return undefined;
    const head = this.#head;
    const frame = this.#frames[head] as F;
    this.#frames[head] = undefined; // let the frame be collected once the caller is done
    this.counters.departed++;
    this.counters.departedBytes += this.#sizes[head];
    this.#head = (head + 1) & this.#mask;
    this.#count--;
    return frame;
  }

  #push(frame: F, bytes: number, departureUs: number): void {
    if (this.#count === this.#mask + 1) this.#grow();
    const mask = this.#mask;
    // Departures are non-decreasing along the ring. Only reordering jitter can put a
    // frame before others; it moves back past them (few: jitter is usually smaller
    // than the gap between several frames).
    let at = (this.#head + this.#count) & mask;
    for (let n = this.#count; n > 0; n--) {
      const before = (at - 1) & mask;
      if (this.#departures[before] <= departureUs) break;
      this.#frames[at] = this.#frames[before];
      this.#sizes[at] = this.#sizes[before];
      this.#departures[at] = this.#departures[before];
      at = before;
    }
    this.#frames[at] = frame;
    this.#sizes[at] = bytes;
    this.#departures[at] = departureUs;
    this.#count++;
  }

  #grow(): void {
    const capacity = (this.#mask + 1) * 2;
    const frames = new Array<F | undefined>(capacity).fill(undefined);
    const sizes = new Float64Array(capacity);
    const departures = new Float64Array(capacity);
    for (let i = 0; i < this.#count; i++) {
      const from = (this.#head + i) & this.#mask;
      frames[i] = this.#frames[from];
      sizes[i] = this.#sizes[from];
      departures[i] = this.#departures[from];
    }
    this.#frames = frames;
    this.#sizes = sizes;
    this.#departures = departures;
    this.#mask = capacity - 1;
    this.#head = 0;
  }
}
