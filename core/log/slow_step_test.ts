import assert from "node:assert/strict";
import { sayIfSlow } from "./slow_step.ts";

const after = (ms: number, value: string) =>
  new Promise<string>((resolve) => setTimeout(() => resolve(value), ms));

Deno.test("sayIfSlow() speaks once for a step that outlasts its bound", async () => {
  const said: number[] = [];
  const started = Date.now();
  assert.equal(
    await sayIfSlow(after(200, "done"), () => said.push(Date.now() - started), 50),
    "done",
  );
  assert.equal(said.length, 1);
  assert.ok(said[0] >= 45 && said[0] < 200, `said at ${said[0]} ms`);
});

Deno.test("sayIfSlow() stays silent for a quick step, even later", async () => {
  let said = 0;
  assert.equal(await sayIfSlow(after(5, "quick"), () => said++, 50), "quick");
  await after(100, "");
  assert.equal(said, 0);
});

Deno.test("sayIfSlow() passes a failure through and stays silent after it", async () => {
  let said = 0;
  const failing = Promise.reject(new Error("boom"));
  await assert.rejects(sayIfSlow(failing, () => said++, 30), /boom/);
  await after(80, "");
  assert.equal(said, 0);
});
