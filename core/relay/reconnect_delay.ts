/**
 * How long a relay client waits before its next attempt to reach the relay
 * (sans-IO: the outage's age and the random draw are passed in).
 *
 * Sessions through the relay wait up to 30 s for it (core/transport/
 * liveness.ts), and both ends of each must be back for it to go on: during
 * the first {@linkcode FAST_RETRY_WINDOW_MS} of an outage the client tries
 * every 0.5-1 s, so it is back within a second of the relay. After that the
 * sessions are gone and the waits double up to {@linkcode MAX_BACKOFF_MS}
 * (jittered: many clients of a relay do not all come back at once).
 * @module
 */

/** How long into an outage attempts stay frequent. */
export const FAST_RETRY_WINDOW_MS = 30_000;
/** The base wait while attempts are frequent (each wait is half of it to all of it). */
export const FAST_RETRY_MS = 1_000;
/** The first base wait once the frequent attempts are over. */
export const SLOW_RETRY_MS = 2_000;
/** Longest wait between attempts. */
export const MAX_BACKOFF_MS = 30_000;

/** What the next wait depends on. */
export interface ReconnectDelayInput {
  /** How long the relay has been unreachable (since the link was lost or the first attempt). */
  outageMs: number;
  /** Attempts that failed since the window of frequent attempts closed. */
  slowAttempts: number;
  /** When the relay said it was restarting: when it asked to be tried again. */
  restartInMs?: number;
  /** A number in [0, 1). */
  random: number;
}

/** The wait before the next attempt, in ms. */
export function reconnectDelay(input: ReconnectDelayInput): number {
  const jitter = (base: number) => base / 2 + input.random * base / 2;
  if (input.restartInMs !== undefined) {
    // The relay said when to come back: honoured, within the bounds.
    return Math.max(FAST_RETRY_MS / 2, Math.min(input.restartInMs, MAX_BACKOFF_MS));
  }
  if (input.outageMs < FAST_RETRY_WINDOW_MS) return jitter(FAST_RETRY_MS);
  const exponent = Math.max(0, Math.min(input.slowAttempts, 16));
  return jitter(Math.min(SLOW_RETRY_MS * 2 ** exponent, MAX_BACKOFF_MS));
}
