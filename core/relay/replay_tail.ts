/**
 * Which datagrams queued during an outage a relay client sends again after it
 * is back (sans-IO). They are the newest packets of each QUIC connection
 * through it, its retransmission probes among them: once the peer (back at the
 * relay a little later than us, perhaps) acknowledges one, our QUIC declares
 * the rest lost and sends again at once, instead of waiting for its
 * retransmission timer, which doubled all through the outage (after 20 s of
 * outage its next firing could be 15 s away).
 * @module
 */
import { keyString } from "./registry.ts";

/** The newest datagrams kept per destination. */
export const REPLAY_PER_PEER = 4;
/** The most datagrams replayed in all (each replay round). */
export const MAX_REPLAYED = 64;

/**
 * The newest `perPeer` datagrams of each destination in `queue` (oldest first),
 * at most `max` in all, the most recently used destinations first.
 */
export function replayTail<T extends { destination: Uint8Array }>(
  queue: readonly T[],
  perPeer = REPLAY_PER_PEER,
  max = MAX_REPLAYED,
): T[] {
  const taken: T[] = [];
  const counts = new Map<string, number>();
  for (let i = queue.length - 1; i >= 0 && taken.length < max; i--) {
    const key = keyString(queue[i].destination);
    const count = counts.get(key) ?? 0;
    if (count >= perPeer) continue;
    counts.set(key, count + 1);
    taken.push(queue[i]);
  }
  return taken.reverse();
}
