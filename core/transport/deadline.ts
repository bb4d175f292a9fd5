/**
 * A bound on any wait: every wait on a peer's input in this project goes
 * through it (see docs/SECURITY.md).
 * @module
 */

/**
 * Resolves with `promise`, or rejects with a {@linkcode DeadlineError} carrying
 * `message` after `ms` milliseconds.
 * @example
 * ```ts
 * const conn = await deadline(listener.accept(), 5_000, "no client in time");
 * ```
 */
export async function deadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineError(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A {@linkcode deadline} passed. */
export class DeadlineError extends Error {
  /** Always "DeadlineError". */
  override name = "DeadlineError";
}
