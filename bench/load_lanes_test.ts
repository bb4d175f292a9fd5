import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { answersPerSecond, latencyPercentile, runLanes } from "./load_lanes.ts";

Deno.test("runLanes() runs every task on at most `lanes` at once and counts outcomes", async () => {
  let running = 0;
  let most = 0;
  const load = await runLanes([1, 2, 3, 4, 5, 6], 2, 10_000, async (n, lane) => {
    running++;
    most = Math.max(most, running);
    await new Promise((resolve) => setTimeout(resolve, 5));
    lane.record(n % 2 === 0 ? "even" : "odd", n);
    running--;
  });
  equal(most, 2);
  deepStrictEqual(load.outcomes, { odd: 3, even: 3 });
  equal(load.cutShort, false);
  equal(latencyPercentile(load, 50), 3);
  ok(answersPerSecond(load, ["even"]) < answersPerSecond(load));
});

Deno.test("runLanes() stops at its deadline and says so; a failing task is counted, not thrown", async () => {
  const started = performance.now();
  const load = await runLanes(Array.from({ length: 1_000 }), 4, 100, async (_, lane) => {
    while (!lane.expired()) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      lane.record("ok", 10);
    }
  });
  ok(performance.now() - started < 1_000);
  equal(load.cutShort, true);
  const failing = await runLanes([1, 2], 1, 1_000, (n) => Promise.reject(new Error(`task ${n}`)));
  deepStrictEqual(failing.failures, { count: 2, first: "task 1" });
  equal(latencyPercentile(failing, 99), null);
});
