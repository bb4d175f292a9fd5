/**
 * Counts a server's process-wide pools (sessions against `--max-sessions`,
 * forwarded TCP connections, UDP flows), in total and per client, so that one
 * client cannot take a whole pool and lock every other client out.
 * @module
 */

/**
 * The part of a pool one client may hold: a quarter, so at least three other
 * clients as greedy as it still find room, but never less than `floor` (a small
 * pool, e.g. `--max-sessions 4`, would otherwise leave a client one slot).
 *
 * @param max the pool's size
 * @param floor the smallest share, itself capped at `max`
 * @example
 * ```ts
 * fairShare(4_096, 64); // 1_024
 * fairShare(8, 4); // 4
 * fairShare(2, 4); // 2
 * ```
 */
export function fairShare(max: number, floor: number): number {
  return Math.min(max, Math.max(floor, Math.floor(max / 4)));
}

/** A pool's slots as one client sees them (what a session's service holds). */
export interface PoolSlots {
  /** Takes a slot; `false` when the pool or the client's share is full. */
  tryAcquire(): boolean;
  /** Gives a slot back. */
  release(): void;
  /** Which limit a refused {@linkcode PoolSlots.tryAcquire} met, for a reason line. */
  limitReached(): string;
}

/** Options of a {@linkcode SessionLimiter}. */
export interface SessionLimiterOptions {
  /** Slots one client may hold at once. Default: all of them (no per-client cap). */
  share?: number;
}

/** A counting semaphore that refuses instead of waiting, with a cap per client. */
export class SessionLimiter {
  /** Slots in all. */
  readonly max: number;
  /** Slots one client may hold. */
  readonly share: number;
  readonly #byClient = new Map<string, number>();
  #active = 0;

  /**
   * Starts with every slot free.
   * @throws {RangeError} unless `max` and the share are positive integers.
   */
  constructor(max: number, options: SessionLimiterOptions = {}) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Invalid max sessions ${max}: must be a positive integer`);
    }
    const share = options.share ?? max;
    if (!Number.isInteger(share) || share < 1) {
      throw new RangeError(`Invalid share ${share}: must be a positive integer`);
    }
    this.max = max;
    this.share = Math.min(share, max);
  }

  /** Slots now taken. */
  get active(): number {
    return this.#active;
  }

  /** Slots `client` holds now. */
  activeFor(client: string): number {
    return this.#byClient.get(client) ?? 0;
  }

  /**
   * Takes a slot, for `client` when given; `false` when all are taken or the
   * client holds its share. Pair with a {@linkcode release} for the same client.
   */
  tryAcquire(client?: string): boolean {
    if (this.#active >= this.max) return false;
    if (client !== undefined) {
      const held = this.activeFor(client);
      if (held >= this.share) return false;
      this.#byClient.set(client, held + 1);
    }
    this.#active++;
    return true;
  }

  /** Gives a slot back (the one `client` took, when given). */
  release(client?: string): void {
    if (client !== undefined) {
      const held = this.#byClient.get(client);
      if (held === undefined) return;
      if (held <= 1) this.#byClient.delete(client);
      else this.#byClient.set(client, held - 1);
    }
    if (this.#active > 0) this.#active--;
  }

  /**
   * Which limit a refusal of `client` met: the pool's (`limit 4096`) or the
   * client's share (`share of one client, 1024 of 4096`).
   */
  limitReached(client?: string): string {
    if (this.#active >= this.max || client === undefined) return `limit ${this.max}`;
    return `share of one client, ${this.share} of ${this.max}`;
  }

  /** The pool as `client` sees it: its slots count against its share and the pool. */
  forClient(client: string): PoolSlots {
    return {
      tryAcquire: () => this.tryAcquire(client),
      release: () => this.release(client),
      limitReached: () => this.limitReached(client),
    };
  }
}
