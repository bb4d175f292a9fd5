/**
 * When an unanswered signaling message is published again (sans-IO): relays
 * pass kind 24242 only to subscriptions open at that moment, so a copy can be
 * missed, but every copy counts against the relays' per-key rate limits
 * (nostream's default: 60 ephemeral events a minute). Copies therefore thin
 * out (2 s, 4 s, then every 8 s) and stop after {@linkcode REPUBLISH_MAX_COPIES}.
 * @module
 */

/** Wait before the first republished copy. */
export const REPUBLISH_FIRST_MS = 2_000;
/** Longest wait between two copies. */
export const REPUBLISH_MAX_GAP_MS = 8_000;
/**
 * Most copies of one message, the first included: at 0, 2, 6, 14, 22 and 30 s,
 * past every deadline that waits for an answer (the client's offer wait and
 * the server's answer wait), so no copy outlives its session.
 */
export const REPUBLISH_MAX_COPIES = 6;

/**
 * The wait before the next copy once `sent` copies went out, or undefined
 * when no more copies are due.
 * @param sent copies published so far (1 after the first)
 * @param maxCopies most copies in all (default {@linkcode REPUBLISH_MAX_COPIES})
 */
export function republishDelayMs(
  sent: number,
  maxCopies: number = REPUBLISH_MAX_COPIES,
): number | undefined {
  if (sent < 1 || sent >= maxCopies) return undefined;
  return Math.min(REPUBLISH_FIRST_MS * 2 ** (sent - 1), REPUBLISH_MAX_GAP_MS);
}
