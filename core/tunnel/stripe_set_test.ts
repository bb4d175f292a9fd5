import assert from "node:assert/strict";
import { memoryConnectionPair } from "../transport/memory.ts";
import { ProtocolError } from "./messages.ts";
import { MAX_STRIPES } from "./segments.ts";
import { StripeSet } from "./stripe_set.ts";

async function streams(n: number) {
  const [a] = memoryConnectionPair();
  const out = [];
  for (let i = 0; i < n; i++) out.push(await a.openStream());
  return { a, out };
}

Deno.test("StripeSet.get() waits for a stripe to join, and gives up after its deadline", async () => {
  const { a, out } = await streams(3);
  const set = new StripeSet(out[0]);
  const waiting = set.get(2, 5_000);
  set.add(2, out[2], Uint8Array.of(1));
  assert.equal(await waiting, out[2]);
  assert.deepEqual(set.prefixOf(2), Uint8Array.of(1));
  const started = performance.now();
  await assert.rejects(set.get(1, 50), ProtocolError);
  assert.ok(performance.now() - started < 1_000);
  a.close();
});

Deno.test("StripeSet.add() refuses index 0, out-of-range and repeated indexes; a closed set takes none", async () => {
  const { a, out } = await streams(3);
  const set = new StripeSet(out[0]);
  for (const index of [0, -1, MAX_STRIPES, 1.5]) {
    assert.throws(() => set.add(index, out[1]), ProtocolError);
  }
  assert.equal(set.add(1, out[1]), true);
  assert.throws(() => set.add(1, out[2]), ProtocolError);
  const waiting = set.get(3, 5_000);
  set.close();
  await assert.rejects(waiting, ProtocolError);
  assert.equal(set.add(2, out[2]), false);
  a.close();
});
