/**
 * Which keys each writer (an address's network) holds records for, and which
 * writer holds the most, in constant time per change (sans-IO).
 * @module
 */

/** Keys by writer, oldest first, and writers by how many keys they hold. */
export class WriterIndex {
  readonly #keys = new Map<string, Set<string>>();
  /** Writers by the number of keys they hold (only counts of 1 or more). */
  readonly #byCount = new Map<number, Set<string>>();
  #maxCount = 0;

  /** Keys `writer` holds. */
  held(writer: string): number {
    return this.#keys.get(writer)?.size ?? 0;
  }

  /** `writer`'s keys, oldest first (a copy is not made: do not change the index while iterating). */
  keys(writer: string): Iterable<string> {
    return this.#keys.get(writer) ?? [];
  }

  /** A writer holding the most keys, if any writer holds one. */
  heaviest(): string | undefined {
    return this.#byCount.get(this.#maxCount)?.values().next().value;
  }

  /** Records that `writer` holds `key` (the newest of its keys). */
  add(writer: string, key: string): void {
    let keys = this.#keys.get(writer);
    if (!keys) this.#keys.set(writer, keys = new Set());
    if (keys.has(key)) return;
    this.#move(writer, keys.size, keys.size + 1);
    keys.add(key);
  }

  /** Moves `key` behind `writer`'s other keys (as if it were the newest). */
  moveToBack(writer: string, key: string): void {
    const keys = this.#keys.get(writer);
    if (keys?.delete(key)) keys.add(key);
  }

  /** Records that `writer` no longer holds `key`. */
  remove(writer: string, key: string): void {
    const keys = this.#keys.get(writer);
    if (!keys?.delete(key)) return;
    this.#move(writer, keys.size + 1, keys.size);
    if (keys.size === 0) this.#keys.delete(writer);
  }

  #move(writer: string, from: number, to: number): void {
    const old = this.#byCount.get(from);
    old?.delete(writer);
    if (old?.size === 0) this.#byCount.delete(from);
    if (to > 0) {
      let writers = this.#byCount.get(to);
      if (!writers) this.#byCount.set(to, writers = new Set());
      writers.add(writer);
    }
    // Counts move by one, so the maximum does too.
    if (to > this.#maxCount) this.#maxCount = to;
    else if (from === this.#maxCount && !this.#byCount.has(from)) this.#maxCount = to;
  }
}
