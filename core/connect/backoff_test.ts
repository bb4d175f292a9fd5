import assert from "node:assert/strict";
import { Backoff, MAX_BACKOFF_MS, MIN_BACKOFF_MS } from "./backoff.ts";

/** `count` waits of a backoff whose random source always returns `r`. */
function waits(r: number, count: number, options: { minMs?: number; maxMs?: number } = {}) {
  const backoff = new Backoff({ ...options, random: () => r });
  return Array.from({ length: count }, () => backoff.next());
}

Deno.test("Backoff doubles its base from 1 s and stops at 30 s", () => {
  const backoff = new Backoff({ random: () => 0 });
  const bases = Array.from({ length: 8 }, () => {
    const base = backoff.baseMs;
    backoff.next();
    return base;
  });
  assert.deepEqual(bases, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(MIN_BACKOFF_MS, 1_000);
  assert.equal(MAX_BACKOFF_MS, 30_000);
});

Deno.test("Backoff draws each wait between half the base and the base", () => {
  assert.deepEqual(waits(0, 7), [500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  assert.deepEqual(waits(0.5, 7), [750, 1_500, 3_000, 6_000, 12_000, 22_500, 22_500]);
  const highest = waits(1 - Number.EPSILON, 7);
  const bases = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
  highest.forEach((wait, i) => assert.ok(wait < bases[i] && wait > bases[i] - 1, `${wait}`));
  // With Math.random every wait stays within its bounds.
  const backoff = new Backoff();
  for (const base of bases) {
    const wait = backoff.next();
    assert.ok(wait >= base / 2 && wait <= base, `${wait} outside [${base / 2}, ${base}]`);
  }
});

Deno.test("Backoff.reset() starts over from the first wait", () => {
  const backoff = new Backoff({ minMs: 100, maxMs: 400, random: () => 0 });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [
    50,
    100,
    200,
    200,
  ]);
  backoff.reset();
  assert.equal(backoff.baseMs, 100);
  assert.equal(backoff.next(), 50);
});

Deno.test("Backoff rejects a non-positive start or a cap below it", () => {
  for (const options of [{ minMs: 0 }, { minMs: -1 }, { minMs: 10, maxMs: 5 }, { minMs: NaN }]) {
    assert.throws(() => new Backoff(options), RangeError, JSON.stringify(options));
  }
});
