import assert from "node:assert/strict";
import { WriterIndex } from "./_writer_index.ts";

Deno.test("WriterIndex: keys per writer, oldest first, and the writer holding the most", () => {
  const index = new WriterIndex();
  assert.equal(index.heaviest(), undefined);
  index.add("a", "k1");
  index.add("b", "k2");
  index.add("b", "k3");
  index.add("b", "k3"); // counted once
  assert.equal(index.held("b"), 2);
  assert.equal(index.heaviest(), "b");
  index.moveToBack("b", "k2");
  assert.deepEqual([...index.keys("b")], ["k3", "k2"]);
  index.remove("b", "k2");
  index.remove("b", "k3");
  assert.equal(index.held("b"), 0);
  assert.equal(index.heaviest(), "a");
  index.remove("a", "k1");
  index.remove("a", "absent");
  assert.equal(index.heaviest(), undefined);
  assert.deepEqual([...index.keys("a")], []);
  for (let i = 0; i < 5; i++) index.add("c", `c${i}`);
  index.add("d", "d0");
  for (let i = 0; i < 4; i++) index.remove("c", `c${i}`);
  assert.equal(index.held("c"), 1);
  assert.ok(["c", "d"].includes(index.heaviest()!), "a writer holding one, the most now");
});
