import assert from "node:assert/strict";
import { PATH_SILENCE_MS, PathTable } from "./path_table.ts";

Deno.test("PathTable: a live direct path beats the relay; silence hands back to the relay", () => {
  const table = new PathTable();
  const relay = table.add("relay", "http://relay/", 0);
  assert.equal(table.best(0)?.id, relay);
  const direct = table.add("direct", "203.0.113.7:41641", 100);
  assert.equal(table.best(100)?.id, direct);
  // Only the relay keeps answering: past the silence bound the relay takes over.
  for (let t = 1_000; t <= 100 + PATH_SILENCE_MS; t += 1_000) table.heard(relay, t, 5);
  table.heard(relay, 100 + PATH_SILENCE_MS + 1, 5);
  assert.equal(table.best(100 + PATH_SILENCE_MS)?.id, direct, "still within the bound");
  assert.equal(table.best(101 + PATH_SILENCE_MS)?.id, relay);
  assert.equal(table.best(101 + PATH_SILENCE_MS)?.live, true);
  // The direct path answers again: it is preferred again.
  table.heard(direct, 5_000, 1);
  assert.equal(table.best(5_000)?.id, direct);
});

Deno.test("PathTable: lowest smoothed round trip among live paths of a kind; removal", () => {
  const table = new PathTable();
  const a = table.add("relay", "a", 0);
  const b = table.add("relay", "b", 0);
  assert.equal(table.best(0)?.id, a, "no samples: the older path");
  table.heard(a, 5, 900); // the first sample is replaced by the second
  table.heard(a, 10, 40);
  table.heard(b, 10, 20);
  assert.equal(table.list(10).find((p) => p.id === a)?.rttMs, 40);
  assert.equal(table.best(10)?.id, b);
  // One fast sample does not flip a smoothed average at once.
  table.heard(a, 20, 0);
  assert.equal(table.list(20).find((p) => p.id === a)?.rttMs, 30);
  assert.equal(table.best(20)?.id, b);
  table.remove(b);
  assert.equal(table.best(20)?.id, a);
  table.remove(a);
  assert.equal(table.best(20), undefined);
  assert.equal(table.size, 0);
});

Deno.test("PathTable: with no live path, the one heard from last; bad samples are ignored", () => {
  const table = new PathTable(100);
  const a = table.add("direct", "a", 0);
  const b = table.add("relay", "b", 0);
  table.heard(b, 50, Number.NaN);
  table.heard(a, 40, -1);
  assert.equal(table.list(50).every((p) => p.rttMs === undefined), true);
  assert.equal(table.best(1_000)?.id, b);
  assert.equal(table.best(1_000)?.live, false);
  table.heard(999, 10, 1); // unknown id: ignored
});
