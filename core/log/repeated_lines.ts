/**
 * Keeps a flood of alike lines (one per refused connection, per dropped
 * datagram) from drowning the output: the first line of each kind is printed
 * at once, the rest are counted and summarised once per interval.
 * @module
 */

/** Default summary interval. */
export const SUMMARY_INTERVAL_MS = 10_000;

interface KindState {
  /** Lines of this kind held back since the last summary. */
  held: number;
  /** The most recent of them (shown as an example). */
  last: string;
}

/**
 * Prints the first line of each kind per interval through `emit` and a count
 * of the others at the end of the interval.
 *
 * @example
 * ```ts
 * const lines = new RepeatedLines((line) => console.error(line));
 * for (let i = 0; i < 1000; i++) lines.report("flow-limit", "UDP flow limit reached");
 * lines.flush(); // "UDP flow limit reached (999 more like it in the last 10 s)"
 * lines.close();
 * ```
 */
export class RepeatedLines {
  readonly #emit: (line: string) => void;
  readonly #intervalMs: number;
  readonly #kinds = new Map<string, KindState>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts with nothing held.
   * @param emit where lines go
   * @param intervalMs how often held lines are summarised
   */
  constructor(emit: (line: string) => void, intervalMs = SUMMARY_INTERVAL_MS) {
    this.#emit = emit;
    this.#intervalMs = intervalMs;
  }

  /** Prints `line` if it is the first of `kind` in this interval; counts it otherwise. */
  report(kind: string, line: string): void {
    const state = this.#kinds.get(kind);
    if (state) {
      state.held++;
      state.last = line;
      return;
    }
    this.#kinds.set(kind, { held: 0, last: line });
    this.#emit(line);
    this.#schedule();
  }

  /** Prints a summary of every held kind and starts a new interval. */
  flush(): void {
    const span = this.#intervalMs >= 1000
      ? `${Math.round(this.#intervalMs / 1000)} s`
      : `${this.#intervalMs} ms`;
    for (const state of this.#kinds.values()) {
      if (state.held > 0) {
        this.#emit(`${state.last} (${state.held} more like it in the last ${span})`);
      }
    }
    this.#kinds.clear();
  }

  /** Flushes and stops the timer. */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#intervalMs);
    // A pending summary must never keep the process alive.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}
