import assert from "node:assert/strict";
import { MAX_REPLAYED, REPLAY_PER_PEER, replayTail } from "./replay_tail.ts";

const peer = (n: number) => new Uint8Array(32).fill(n);
const frame = (n: number, seq: number) => ({ destination: peer(n), seq });

Deno.test("replayTail: the newest few per destination, oldest first", () => {
  const queue = [
    ...Array.from({ length: 10 }, (_, i) => frame(1, i)),
    frame(2, 100),
    frame(1, 10),
  ];
  const tail = replayTail(queue);
  assert.deepEqual(tail.map((f) => f.seq), [7, 8, 9, 100, 10]);
  assert.equal(tail.filter((f) => f.destination[0] === 1).length, REPLAY_PER_PEER);
});

Deno.test("replayTail: never more than the cap in all, however many destinations", () => {
  const queue = Array.from({ length: 256 }, (_, i) => frame(i % 200, i));
  const tail = replayTail(queue);
  assert.equal(tail.length, MAX_REPLAYED);
  // The most recently used destinations are the ones kept.
  assert.equal(tail.at(-1)!.seq, 255);
  assert.equal(tail[0].seq, 256 - MAX_REPLAYED);
  assert.deepEqual(replayTail([]), []);
  assert.equal(replayTail(queue, 1, 3).length, 3);
});
