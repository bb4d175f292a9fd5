import assert from "node:assert/strict";
import { ADDRESS_WRITE_BURST, AddressBuckets, FLOOD_MEMORY_MS } from "./_address_buckets.ts";

Deno.test("AddressBuckets: a burst, then the sustained rate; the empty one is marked as flooding", () => {
  const buckets = new AddressBuckets();
  for (let i = 0; i < ADDRESS_WRITE_BURST; i++) assert.ok(buckets.take("a", 0), `write ${i}`);
  assert.equal(buckets.isFlooding("a", 0), false, "a burst within the limit is no flood");
  assert.equal(buckets.take("a", 0), false);
  assert.equal(buckets.isFlooding("a", 0), true);
  assert.ok(buckets.take("b", 0), "other addresses have their own bucket");
  assert.equal(buckets.isFlooding("b", 0), false);
  assert.ok(buckets.take("a", 1_000), "one write a second comes back");
  assert.equal(buckets.take("a", 1_000), false);
  assert.equal(buckets.isFlooding("a", 1_000 + FLOOD_MEMORY_MS - 1), true);
  assert.equal(buckets.isFlooding("a", 1_000 + FLOOD_MEMORY_MS), false, "the mark fades");
});

Deno.test("AddressBuckets: tracks at most its capacity, forgetting the least recently seen", () => {
  const buckets = new AddressBuckets({ burst: 1, perSecond: 0.001, capacity: 3 });
  for (const address of ["a", "b", "c"]) assert.ok(buckets.take(address, 0));
  assert.equal(buckets.take("a", 0), false); // a is now the most recently seen
  assert.ok(buckets.take("d", 0)); // b goes
  assert.equal(buckets.size, 3);
  assert.ok(buckets.take("b", 0), "a forgotten address starts with a full bucket");
  assert.equal(buckets.take("a", 0), false, "a was kept");
  assert.throws(() => new AddressBuckets({ burst: 0 }), RangeError);
});
