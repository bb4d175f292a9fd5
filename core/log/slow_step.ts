/**
 * A line for a step that takes long: start-up that waits on the network says
 * what it waits for once the wait exceeds {@linkcode SLOW_STEP_MS}, so a user
 * never watches a silent terminal wondering whether it hangs.
 * @module
 */

/** How long a step may run before its progress line is shown. */
export const SLOW_STEP_MS = 2_000;

/**
 * Returns `work`'s outcome; calls `say` once if `work` is still running after
 * `afterMs` (default {@linkcode SLOW_STEP_MS}), and never after it settled.
 * @example
 * ```ts
 * const answer = await sayIfSlow(
 *   new Promise((resolve) => setTimeout(() => resolve(42), 10)),
 *   () => console.log("Still waiting for the answer..."),
 * );
 * ```
 */
export async function sayIfSlow<T>(
  work: Promise<T>,
  say: () => void,
  afterMs: number = SLOW_STEP_MS,
): Promise<T> {
  const timer = setTimeout(say, afterMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
