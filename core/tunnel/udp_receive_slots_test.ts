import assert from "node:assert/strict";
import { RECEIVE_SLOT_BYTES, UdpReceiveSlots } from "./udp_receive_slots.ts";

Deno.test("UdpReceiveSlots hands out separate slots that each hold the largest datagram", () => {
  const slots = new UdpReceiveSlots(3);
  const taken = [slots.take(), slots.take(), slots.take()];
  for (const slot of taken) assert.equal(slot.length, RECEIVE_SLOT_BYTES);
  assert.deepEqual(taken.map((s) => s.byteOffset), [0, 1, 2].map((i) => i * RECEIVE_SLOT_BYTES));
  taken[1][0] = 7;
  assert.equal(taken[0][RECEIVE_SLOT_BYTES - 1], 0);
  assert.equal(taken[2][0], 0);
  assert.equal(slots.inUse, 3);
});

Deno.test("UdpReceiveSlots reuses a slot given back", () => {
  const slots = new UdpReceiveSlots(2);
  const first = slots.take();
  slots.take();
  slots.give(first);
  assert.equal(slots.inUse, 1);
  assert.equal(slots.take().byteOffset, first.byteOffset);
});

Deno.test("UdpReceiveSlots past its count hands out buffers of their own and ignores them back", () => {
  const slots = new UdpReceiveSlots(1);
  const inBlock = slots.take();
  const extra = slots.take();
  assert.equal(extra.length, RECEIVE_SLOT_BYTES);
  assert.notEqual(extra.buffer, inBlock.buffer);
  slots.give(extra);
  assert.equal(slots.inUse, 1);
  slots.give(inBlock);
  assert.equal(slots.inUse, 0);
});
