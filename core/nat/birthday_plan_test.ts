import assert from "node:assert/strict";
import {
  BIRTHDAY_LOWEST_PORT,
  BIRTHDAY_PROBES,
  planProbes,
  secureRandom,
  seededRandom,
} from "./birthday_plan.ts";

Deno.test("planProbes: distinct ports in 1024..65535, paced evenly, the first at once", () => {
  const plan = planProbes(BIRTHDAY_PROBES, 2_000, seededRandom(42));
  assert.equal(new Set(plan.ports).size, BIRTHDAY_PROBES);
  assert.ok(
    plan.ports.every((p) => Number.isInteger(p) && p >= BIRTHDAY_LOWEST_PORT && p <= 65_535),
  );
  assert.equal(plan.dueBy(-1), 0);
  assert.equal(plan.dueBy(0), 1);
  assert.equal(plan.dueBy(1_000), 513);
  assert.equal(plan.dueBy(1_999), BIRTHDAY_PROBES);
  assert.equal(plan.dueBy(60_000), BIRTHDAY_PROBES, "never more than planned");
  assert.equal(planProbes(8, 0, seededRandom(1)).dueBy(0), 8);
});

Deno.test("planProbes: the same seed gives the same ports, another seed others", () => {
  const a = planProbes(64, 100, seededRandom(7)).ports;
  assert.deepEqual(planProbes(64, 100, seededRandom(7)).ports, a);
  assert.notDeepEqual(planProbes(64, 100, seededRandom(8)).ports, a);
});

Deno.test("planProbes: counts outside 1..1024 and negative spreads are refused", () => {
  for (const count of [0, -1, 1.5, BIRTHDAY_PROBES + 1, NaN]) {
    assert.throws(() => planProbes(count, 100, Math.random), RangeError, String(count));
  }
  assert.throws(() => planProbes(1, -1, Math.random), RangeError);
});

Deno.test("secureRandom: values in [0, 1), not constant", () => {
  const random = secureRandom();
  const values = Array.from({ length: 200 }, random);
  assert.ok(values.every((v) => v >= 0 && v < 1));
  assert.ok(new Set(values).size > 190);
});
