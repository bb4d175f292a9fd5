import assert from "node:assert/strict";
import type { NodeContact } from "./krpc.ts";
import { bigIntToId, idToBigInt } from "./node_id.ts";
import { BAD_AFTER_FAILURES, K, QUESTIONABLE_AFTER_MS, RoutingTable } from "./routing_table.ts";

let port = 1000;
function contact(id: bigint): NodeContact {
  return { id: bigIntToId(id), address: { hostname: "10.0.0.1", port: port++ } };
}
const OWN = 0n; // our id: 000...0, so the bucket of the low half splits
const HIGH = 1n << 159n; // ids with the top bit set: the far half

Deno.test("routing table: fills, splits the bucket holding our id, refuses more than K far away", () => {
  const clock = { ms: 0 };
  const table = new RoutingTable(bigIntToId(OWN), { now: () => clock.ms });
  for (let i = 0n; i < BigInt(K); i++) {
    assert.equal(table.observe(contact(HIGH + i), "response").outcome, "added");
  }
  assert.equal(table.bucketCount, 1);
  // A 9th far node: the full bucket splits (it holds our id), the far half keeps its 8.
  assert.equal(table.observe(contact(HIGH + 100n), "response").outcome, "replacement");
  assert.ok(table.bucketCount >= 2);
  // Near nodes go into the near buckets.
  for (let i = 1n; i <= 20n; i++) table.observe(contact(i << 100n), "response");
  assert.ok(table.size > K);
  // Our own id is never added.
  assert.equal(table.observe(contact(OWN), "response").outcome, "ignored");
});

Deno.test("routing table: bounded under a flood of ids (160 buckets, K each)", () => {
  const table = new RoutingTable(bigIntToId(OWN));
  let seed = 1n;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) % (1n << 160n);
    table.observe(contact(seed), i % 2 ? "query" : "response");
  }
  assert.ok(table.bucketCount <= 160);
  assert.ok(table.size <= 160 * K, `size ${table.size}`);
  // Ids near ours (each in its own bucket after splits) fill the table up to 160 buckets deep.
  for (let bit = 0n; bit < 160n; bit++) table.observe(contact(1n << bit), "response");
  assert.ok(table.bucketCount <= 160);
});

Deno.test("routing table: closest is by XOR distance", () => {
  const table = new RoutingTable(bigIntToId(OWN));
  for (const id of [5n, 9n, 1n << 150n, 3n << 150n, 12n]) table.observe(contact(id), "response");
  const closest = table.closest(bigIntToId(8n), 3).map((node) => idToBigInt(node.id));
  assert.deepEqual(closest, [9n, 12n, 5n]);
});

Deno.test("routing table: questionable nodes are offered for a ping; a bad one gives way to a replacement", () => {
  const clock = { ms: 0 };
  const table = new RoutingTable(bigIntToId(OWN), { now: () => clock.ms });
  const far = Array.from({ length: K }, (_, i) => contact(HIGH + BigInt(i)));
  for (const node of far) table.observe(node, "response");
  // All good: a newcomer waits in the replacement cache, no ping asked.
  const newcomer = contact(HIGH + 50n);
  const early = table.observe(newcomer, "response");
  assert.equal(early.outcome, "replacement");
  assert.equal(early.ping, undefined);
  clock.ms += QUESTIONABLE_AFTER_MS + 1;
  far.slice(1).forEach((node) => table.observe(node, "response")); // all but far[0] answer again
  const later = table.observe(newcomer, "response");
  assert.deepEqual(later.ping?.id, far[0].id, "the least recently seen is pinged");
  for (let i = 0; i < BAD_AFTER_FAILURES; i++) table.failed(far[0].id);
  assert.ok(!table.has(far[0].id));
  assert.ok(table.has(newcomer.id));
});

Deno.test("routing table: a query fills free room but does not evict; an address keeps its id", () => {
  const table = new RoutingTable(bigIntToId(OWN));
  const first = contact(HIGH);
  assert.equal(table.observe(first, "query").outcome, "added");
  // Another id claiming the same address is ignored; the same id from another address too.
  assert.equal(
    table.observe({ id: bigIntToId(HIGH + 1n), address: first.address }, "response").outcome,
    "ignored",
  );
  assert.equal(
    table.observe({ id: first.id, address: { hostname: "10.0.0.2", port: 1 } }, "response").outcome,
    "ignored",
  );
  for (let i = 1; i < K; i++) table.observe(contact(HIGH + BigInt(i)), "response");
  table.failed(first.id);
  table.failed(first.id); // bad now, but no replacement yet: stays
  assert.ok(table.has(first.id));
  assert.equal(table.observe(contact(HIGH + 99n), "query").outcome, "replacement");
  // A response from a newcomer takes the bad node's place.
  assert.equal(table.observe(contact(HIGH + 98n), "response").outcome, "added");
  assert.ok(!table.has(first.id));
});

Deno.test("routing table: stale buckets give refresh targets inside their range", () => {
  const clock = { ms: 0 };
  const table = new RoutingTable(bigIntToId(OWN), { now: () => clock.ms });
  for (let i = 0n; i < 20n; i++) table.observe(contact(HIGH + (i << 120n)), "response");
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  assert.equal(table.refreshTargets(15 * 60_000, random).length, 0);
  clock.ms += 15 * 60_000;
  const targets = table.refreshTargets(15 * 60_000, random, 100);
  assert.equal(targets.length, table.bucketCount);
  assert.equal(
    table.refreshTargets(15 * 60_000, random).length,
    0,
    "refreshed buckets are fresh again",
  );
});
