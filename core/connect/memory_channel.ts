/**
 * A pair of in-memory signaling channels: what one sends, the other receives.
 * For tests of connection establishment without a human, a relay or Nostr.
 * @module
 */
import { AsyncQueue } from "../transport/mod.ts";
import type { SignalingChannel } from "./signaling_channel.ts";

/** Two channels joined back to back. */
export function memoryChannelPair<A, B>(): [SignalingChannel<A, B>, SignalingChannel<B, A>] {
  const toSecond = new AsyncQueue<A>();
  const toFirst = new AsyncQueue<B>();
  const receiveFrom = async <T>(queue: AsyncQueue<T>): Promise<T> => {
    const message = await queue.shift();
    if (message === null) throw new Error("Cannot receive: the signaling channel was closed");
    return message;
  };
  return [
    { send: (m) => Promise.resolve(void toSecond.push(m)), receive: () => receiveFrom(toFirst) },
    { send: (m) => Promise.resolve(void toFirst.push(m)), receive: () => receiveFrom(toSecond) },
  ];
}
