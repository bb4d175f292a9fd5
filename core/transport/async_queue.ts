/**
 * A first-in, first-out queue whose consumer awaits the next item: the hand-off
 * between a producer loop (accepting connections) and a caller of `accept()`.
 * @module
 */

/** Items pushed by one side, awaited by the other, until {@linkcode end}. */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T | null) => void)[] = [];
  #ended = false;

  /** Items waiting to be taken. */
  get size(): number {
    return this.#items.length;
  }

  /** Adds an item; `false` (and the item is not kept) once the queue has ended. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
    return true;
  }

  /** The next item, or `null` once the queue has ended and is empty. */
  shift(): Promise<T | null> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Ends the queue: waiting and later takers get `null` once it is empty. */
  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter(null);
  }
}
