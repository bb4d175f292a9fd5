import { deepStrictEqual } from "node:assert/strict";
import { runInterleaved, startPaths } from "./path_runs.ts";

Deno.test("startPaths(): a path that throws is unavailable with its first line, others start", async () => {
  const { started, unavailable } = await startPaths(["a", "b", "c"], (path) => {
    if (path === "b") return Promise.reject(new Error("no b here\nstack"));
    return Promise.resolve(path.toUpperCase());
  });
  deepStrictEqual([...started], [["a", "A"], ["c", "C"]]);
  deepStrictEqual([...unavailable], [["b", "no b here"]]);
});

Deno.test("runInterleaved(): every path once per run, in order; failures recorded apart", async () => {
  const order: string[] = [];
  let calls = 0;
  const runs = await runInterleaved(["x", "y"], 3, (path) => {
    calls++;
    if (path === "y" && calls === 4) return Promise.reject(new Error("timed out"));
    return Promise.resolve(calls);
  }, (path, run) => order.push(`${path}${run}`));
  deepStrictEqual(order, ["x0", "y0", "x1", "y1", "x2", "y2"]);
  deepStrictEqual(runs.get("x"), { results: [1, 3, 5], errors: [] });
  deepStrictEqual(runs.get("y"), { results: [2, 6], errors: ["timed out"] });
});
