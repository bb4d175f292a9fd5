import assert from "node:assert/strict";
import {
  REPUBLISH_FIRST_MS,
  REPUBLISH_MAX_COPIES,
  REPUBLISH_MAX_GAP_MS,
  republishDelayMs,
} from "./republish_schedule.ts";
import { ANSWER_TIMEOUT_MS, OFFER_TIMEOUT_MS } from "./signaling_hub.ts";

/** When each copy goes out (ms after the first), following the schedule to its end. */
function copyTimes(maxCopies?: number): number[] {
  const times = [0];
  for (let sent = 1;; sent++) {
    const wait = republishDelayMs(sent, maxCopies);
    if (wait === undefined) return times;
    times.push(times.at(-1)! + wait);
    assert.ok(times.length <= 1_000, "the schedule ends");
  }
}

Deno.test("republishDelayMs: 2 s, 4 s, then every 8 s, six copies in all", () => {
  assert.deepEqual(copyTimes(), [0, 2_000, 6_000, 14_000, 22_000, 30_000]);
  assert.equal(copyTimes().length, REPUBLISH_MAX_COPIES);
  assert.equal(republishDelayMs(1), REPUBLISH_FIRST_MS);
  for (let sent = 1; sent < 50; sent++) {
    const wait = republishDelayMs(sent, 50)!;
    assert.ok(wait <= REPUBLISH_MAX_GAP_MS, `gap ${wait} after copy ${sent} is capped`);
    if (sent > 1) assert.ok(wait >= republishDelayMs(sent - 1, 50)!, "gaps never shrink");
  }
});

Deno.test("republishDelayMs: no copy after the last, none before the first, a lower bound is kept", () => {
  assert.equal(republishDelayMs(REPUBLISH_MAX_COPIES), undefined);
  assert.equal(republishDelayMs(REPUBLISH_MAX_COPIES + 100), undefined);
  assert.equal(republishDelayMs(0), undefined);
  assert.deepEqual(copyTimes(3), [0, 2_000, 6_000]);
  assert.deepEqual(copyTimes(1), [0]);
});

Deno.test("republishDelayMs: every copy falls within the waits that need it, none after", () => {
  const times = copyTimes();
  // The server's offer: copies while it waits for the answer, and few of them.
  assert.ok(times.filter((t) => t < ANSWER_TIMEOUT_MS).length >= 3);
  // The client's request: its last copy goes out by the time it gives up.
  assert.ok(times.at(-1)! <= OFFER_TIMEOUT_MS);
  // A peer that is gone costs each key at most six events per message, far
  // under nostream's 60 ephemeral events a minute.
  assert.ok(times.length <= 6);
});
