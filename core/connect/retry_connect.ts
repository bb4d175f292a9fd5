/**
 * A first connection made with the patience of a reconnect: attempted at
 * once, then again after each wait of the same backoff a
 * {@linkcode Reconnector} uses, until one works, a failure says trying again
 * cannot help, or the caller gives up. So a client started before its server
 * (both started at boot) gets through once the server is up. Sleeping is
 * injected, so the policy is tested with a fake clock.
 * @module
 */
import { Backoff } from "./backoff.ts";

/** Options of {@linkcode connectWithRetries}. */
export interface RetryConnectOptions<T> {
  /** Makes the connection (every path, the handshake); `signal` aborts it. */
  connect(signal: AbortSignal): Promise<T>;
  /** The error to stop with when trying again cannot help, else undefined. Default: never. */
  giveUp?(error: unknown): Error | undefined;
  /** Aborting it stops the attempts: the promise rejects with its reason. */
  signal?: AbortSignal;
  /** The waits between attempts. Default: a new {@linkcode Backoff}. */
  backoff?: Backoff;
  /** Resolves after `ms`, rejects once `signal` aborts. Default: a timer. */
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  /** Attempt number `attempt` failed with `error`; the next starts in `retryInMs`. */
  onAttemptFailed?(error: unknown, attempt: number, retryInMs: number): void;
}

/**
 * Connects, trying again after each failure with backoff.
 * @returns the connection and the number of attempts it took
 * @throws {Error} what `giveUp` returned for a failure trying again cannot
 * help, or `signal`'s reason once it aborts.
 */
export async function connectWithRetries<T>(
  options: RetryConnectOptions<T>,
): Promise<{ value: T; attempts: number }> {
  const signal = options.signal ?? new AbortController().signal;
  const backoff = options.backoff ?? new Backoff();
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 1;; attempt++) {
    signal.throwIfAborted();
    try {
      return { value: await options.connect(signal), attempts: attempt };
    } catch (error) {
      signal.throwIfAborted();
      const fatal = options.giveUp?.(error);
      if (fatal) throw fatal;
      const waitMs = backoff.next();
      options.onAttemptFailed?.(error, attempt, waitMs);
      await sleep(waitMs, signal);
    }
  }
}

/** Resolves after `ms`; rejects with `signal`'s reason once it aborts (the default sleep of retries). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
