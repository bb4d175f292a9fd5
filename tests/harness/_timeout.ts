// Private to tests/harness: bounded waiting without leaking timers (Deno's test
// sanitizer fails a test that leaves a timer armed).

/** Returned by {@linkcode raceTimeout} when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** Resolves with the promise's value, or {@linkcode TIMED_OUT} after `ms`. */
export async function raceTimeout<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps for `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
