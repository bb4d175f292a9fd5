// The directory of a session's open connections: stripes that come early wait, within
// their deadline and their number; a flood of stripes for ids never opened cannot pile up.
import assert from "node:assert/strict";
import { memoryConnectionPair } from "../transport/mod.ts";
import { MAX_WAITING_STRIPES, OpenPipes } from "./open_pipes.ts";
import { StripeSet } from "./stripe_set.ts";

const [conn] = memoryConnectionPair();
const set = async () => new StripeSet(await conn.openStream());

Deno.test("OpenPipes: a stripe that asks before the open gets the set once it opens", async () => {
  const pipes = new OpenPipes();
  const stripes = await set();
  const found = pipes.find(3, 1_000);
  assert.equal(pipes.waiting, 1);
  assert.ok(pipes.open(3, stripes));
  assert.equal(await found, stripes);
  assert.equal(pipes.waiting, 0);
  assert.equal(await pipes.find(3, 0), stripes, "an open id is found without waiting");
  assert.equal(pipes.open(3, await set()), false, "an id already open");
  pipes.close(3);
  assert.equal(await pipes.find(3, 0), undefined, "a closed id");
});

Deno.test("OpenPipes: a wait ends at its deadline; closeAll ends every wait", async () => {
  const pipes = new OpenPipes();
  const started = performance.now();
  assert.equal(await pipes.find(9, 100), undefined);
  assert.ok(performance.now() - started >= 95);
  const waits = [pipes.find(1, 60_000), pipes.find(1, 60_000), pipes.find(2, 60_000)];
  pipes.closeAll();
  assert.deepEqual(await Promise.all(waits), [undefined, undefined, undefined]);
  assert.equal(pipes.waiting, 0);
});

Deno.test(`OpenPipes: past ${MAX_WAITING_STRIPES} waiting stripes, the next is refused at once`, async () => {
  const pipes = new OpenPipes();
  // An anonymous flood: one stripe for each of as many ids as it likes, none ever opened.
  const waits = Array.from({ length: MAX_WAITING_STRIPES }, (_, i) => pipes.find(i, 60_000));
  assert.equal(pipes.waiting, MAX_WAITING_STRIPES);
  const started = performance.now();
  assert.equal(await pipes.find(100_000, 60_000), undefined);
  assert.ok(performance.now() - started < 50, "refused without waiting");
  pipes.closeAll();
  await Promise.all(waits);
  assert.equal(pipes.waiting, 0);
});
