import assert from "node:assert/strict";
import { AsyncQueue } from "./async_queue.ts";

Deno.test("AsyncQueue hands items to waiting and later takers in order", async () => {
  const queue = new AsyncQueue<number>();
  const first = queue.shift();
  queue.push(1);
  queue.push(2);
  assert.equal(await first, 1);
  assert.equal(await queue.shift(), 2);
});

Deno.test("AsyncQueue.end() drains what is queued, then yields null and refuses pushes", async () => {
  const queue = new AsyncQueue<string>();
  queue.push("a");
  const waiting = new AsyncQueue<string>();
  const pendingTake = waiting.shift();
  queue.end();
  waiting.end();
  assert.equal(await pendingTake, null);
  assert.equal(await queue.shift(), "a");
  assert.equal(await queue.shift(), null);
  assert.equal(queue.push("b"), false);
});
