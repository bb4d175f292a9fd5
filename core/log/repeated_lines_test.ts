import assert from "node:assert/strict";
import { RepeatedLines } from "./repeated_lines.ts";

Deno.test("RepeatedLines prints the first line of a kind and summarises the rest", () => {
  const out: string[] = [];
  const lines = new RepeatedLines((line) => out.push(line), 10_000);
  for (let i = 0; i < 1_000; i++) lines.report("refused", `refused 127.0.0.1:${i}`);
  lines.report("other", "something else");
  assert.deepEqual(out, ["refused 127.0.0.1:0", "something else"]);
  lines.close();
  assert.deepEqual(out.slice(2), ["refused 127.0.0.1:999 (999 more like it in the last 10 s)"]);
});

Deno.test("RepeatedLines prints a kind again in full after a summary", () => {
  const out: string[] = [];
  const lines = new RepeatedLines((line) => out.push(line), 10_000);
  lines.report("k", "one");
  lines.flush();
  lines.report("k", "two");
  lines.close();
  assert.deepEqual(out, ["one", "two"]);
});

Deno.test("RepeatedLines summarises on its own after the interval", async () => {
  const out: string[] = [];
  const lines = new RepeatedLines((line) => out.push(line), 50);
  lines.report("k", "a");
  lines.report("k", "b");
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(out, ["a", "b (1 more like it in the last 50 ms)"]);
  lines.close();
});
