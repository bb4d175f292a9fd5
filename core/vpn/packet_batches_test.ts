import assert from "node:assert/strict";
import { MAX_WAITING_PACKETS, PacketBatches } from "./packet_batches.ts";

Deno.test("PacketBatches hands over everything waiting as one batch", async () => {
  const batches = new PacketBatches();
  batches.push(Uint8Array.of(1));
  batches.push(Uint8Array.of(2));
  assert.deepEqual(await batches.take(), [Uint8Array.of(1), Uint8Array.of(2)]);
  const next = batches.take();
  batches.push(Uint8Array.of(3));
  assert.deepEqual(await next, [Uint8Array.of(3)]);
});

Deno.test("PacketBatches drops beyond its bound and ends with null", async () => {
  const batches = new PacketBatches();
  for (let i = 0; i < MAX_WAITING_PACKETS + 10; i++) batches.push(Uint8Array.of(i & 0xff));
  assert.equal(batches.dropped, 10);
  batches.end();
  assert.equal((await batches.take())?.length, MAX_WAITING_PACKETS);
  assert.equal(await batches.take(), null);
  batches.push(Uint8Array.of(1));
  assert.equal(await batches.take(), null);
});

Deno.test("PacketBatches.end() wakes a waiting consumer", async () => {
  const batches = new PacketBatches();
  const waiting = batches.take();
  batches.end();
  assert.equal(await waiting, null);
});
