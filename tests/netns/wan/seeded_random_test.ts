import assert from "node:assert/strict";
import { seededRandom } from "./seeded_random.ts";

Deno.test("seededRandom() repeats its sequence per seed and stays in [0, 1)", () => {
  const take = (seed: number) => Array.from({ length: 10_000 }, seededRandom(seed));
  const a = take(1);
  assert.deepEqual(take(1), a);
  assert.notDeepEqual(take(2), a);
  assert.ok(a.every((x) => x >= 0 && x < 1));
  const mean = a.reduce((sum, x) => sum + x, 0) / a.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
});
