import assert from "node:assert/strict";
import {
  FAST_RETRY_MS,
  FAST_RETRY_WINDOW_MS,
  MAX_BACKOFF_MS,
  reconnectDelay,
  SLOW_RETRY_MS,
} from "./reconnect_delay.ts";

Deno.test("reconnectDelay: every 0.5-1 s through the first 30 s of an outage, however many attempts failed", () => {
  for (const outageMs of [0, 1_000, 15_000, FAST_RETRY_WINDOW_MS - 1]) {
    for (const random of [0, 0.5, 0.999]) {
      const wait = reconnectDelay({ outageMs, slowAttempts: 0, random });
      assert.ok(wait >= FAST_RETRY_MS / 2 && wait <= FAST_RETRY_MS, `${outageMs}: ${wait}`);
    }
  }
  // Attempts (~40 of them) at 0.5-1 s cover the window: a relay back at any time is found within 1 s.
  let t = 0;
  let longest = 0;
  while (t < FAST_RETRY_WINDOW_MS) {
    const wait = reconnectDelay({ outageMs: t, slowAttempts: 0, random: 0.999 });
    longest = Math.max(longest, wait);
    t += wait;
  }
  assert.ok(longest <= FAST_RETRY_MS);
});

Deno.test("reconnectDelay: past 30 s, doubling from 2 s up to 30 s, jittered", () => {
  const at = (slowAttempts: number, random: number) =>
    reconnectDelay({ outageMs: FAST_RETRY_WINDOW_MS, slowAttempts, random });
  assert.equal(at(0, 0), SLOW_RETRY_MS / 2);
  assert.equal(at(0, 0.5), SLOW_RETRY_MS * 0.75);
  assert.equal(at(1, 0), SLOW_RETRY_MS);
  assert.equal(at(3, 0), SLOW_RETRY_MS * 4);
  // Never beyond the cap, even after very many attempts.
  for (const attempts of [4, 5, 100, 1e9]) {
    assert.ok(at(attempts, 0.999) <= MAX_BACKOFF_MS);
    assert.ok(at(attempts, 0) >= MAX_BACKOFF_MS / 2);
  }
});

Deno.test("reconnectDelay: a relay's restart hint is honoured within 0.5 s and 30 s", () => {
  const hinted = (restartInMs: number) =>
    reconnectDelay({ outageMs: 0, slowAttempts: 0, restartInMs, random: 0.5 });
  assert.equal(hinted(5_000), 5_000);
  assert.equal(hinted(0), FAST_RETRY_MS / 2);
  assert.equal(hinted(10 * 60_000), MAX_BACKOFF_MS);
});
