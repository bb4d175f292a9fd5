import assert from "node:assert/strict";
import { ANSWER_LIMIT_MS, LINK_OUTAGE_LIMIT_MS, Liveness, PEER_SILENCE_MS } from "./liveness.ts";

Deno.test("Liveness: a silent peer on a working link is gone just past 5 s; an answer restarts the count", () => {
  const liveness = new Liveness(0);
  assert.equal(liveness.check(PEER_SILENCE_MS), undefined);
  assert.equal(liveness.check(PEER_SILENCE_MS + 1), "no answer for 5 s");
  liveness.heard(5_000);
  assert.equal(liveness.check(5_000 + PEER_SILENCE_MS), undefined);
  assert.equal(liveness.check(5_001 + PEER_SILENCE_MS), "no answer for 5 s");
  // A late report of an older answer changes nothing.
  liveness.heard(4_000);
  assert.equal(liveness.check(5_001 + PEER_SILENCE_MS), "no answer for 5 s");
});

Deno.test("Liveness: nothing is judged during an outage; then a grace as long as it, then the 5 s rule", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 1_000);
  assert.equal(liveness.linkUp, false);
  // 10 s of outage: never dead while the link is down.
  for (let t = 1_000; t <= 11_000; t += 500) assert.equal(liveness.check(t), undefined);
  liveness.linkChanged(true, 11_000);
  // 10 s of grace from 11 s, then 5 s.
  const deadline = 21_000 + PEER_SILENCE_MS;
  assert.equal(liveness.check(deadline), undefined);
  assert.equal(liveness.check(deadline + 1), "no answer for 5 s");
});

Deno.test("Liveness: an answer in the grace does not end it (the peer's side may still be stuck)", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 0);
  liveness.linkChanged(true, 10_000);
  // A burst of the peer's retransmissions right after the relay is back, then silence.
  liveness.heard(10_500);
  assert.equal(liveness.check(20_000 + PEER_SILENCE_MS), undefined);
  assert.equal(liveness.check(20_001 + PEER_SILENCE_MS), "no answer for 5 s");
});

Deno.test("Liveness: once the grace is over, answers keep the 5 s rule as before", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 0);
  liveness.linkChanged(true, 2_000);
  liveness.heard(5_000);
  liveness.heard(9_000);
  assert.equal(liveness.check(9_000 + PEER_SILENCE_MS), undefined);
  assert.equal(liveness.check(9_001 + PEER_SILENCE_MS), "no answer for 5 s");
});

Deno.test("Liveness: one outage past 30 s ends the session while the link is still down", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 2_000);
  assert.equal(liveness.check(2_000 + LINK_OUTAGE_LIMIT_MS), undefined);
  assert.equal(liveness.check(2_001 + LINK_OUTAGE_LIMIT_MS), "no link to the peer for 30 s");
});

Deno.test("Liveness: an answer during an outage (another link) restarts the outage's count", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 0);
  liveness.heard(5_000);
  assert.equal(liveness.check(5_000 + LINK_OUTAGE_LIMIT_MS), undefined);
  assert.equal(liveness.check(5_001 + LINK_OUTAGE_LIMIT_MS), "no link to the peer for 30 s");
});

Deno.test("Liveness: after a 20 s outage the answer limit (40 s) is what ends a silent session", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 0);
  liveness.linkChanged(true, 20_000);
  assert.equal(liveness.check(ANSWER_LIMIT_MS), undefined);
  assert.equal(liveness.check(ANSWER_LIMIT_MS + 1), "no answer for 40 s");
});

Deno.test("Liveness: a flapping link cannot hold a silent peer past 40 s", () => {
  const liveness = new Liveness(0);
  let t = 0;
  // Down 4 s, up 1 s, over and over: each grace outlasts the next outage's start.
  for (; t + 5_000 <= ANSWER_LIMIT_MS; t += 5_000) {
    liveness.linkChanged(false, t);
    assert.equal(liveness.check(t + 4_000), undefined);
    liveness.linkChanged(true, t + 4_000);
    assert.equal(liveness.check(t + 5_000), undefined);
  }
  assert.equal(liveness.check(ANSWER_LIMIT_MS + 1), "no answer for 40 s");
});

Deno.test("Liveness: repeated reports of the same link state change nothing", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(true, 1_000);
  assert.equal(liveness.check(PEER_SILENCE_MS + 1), "no answer for 5 s");
  const other = new Liveness(0);
  other.linkChanged(false, 1_000);
  other.linkChanged(false, 9_000); // not a new outage
  assert.equal(other.check(1_001 + LINK_OUTAGE_LIMIT_MS), "no link to the peer for 30 s");
});

Deno.test("Liveness: limits can be set (and are what decides)", () => {
  const liveness = new Liveness(0, { silenceMs: 100, outageMs: 300, answerMs: 1_000 });
  assert.equal(liveness.check(101), "no answer for 0.1 s");
  liveness.heard(200);
  liveness.linkChanged(false, 200);
  assert.equal(liveness.check(501), "no link to the peer for 0.3 s");
});

Deno.test("Liveness: the answer to a probe sent since the link came back ends the grace", () => {
  const liveness = new Liveness(0);
  liveness.linkChanged(false, 0);
  liveness.linkChanged(true, 20_000);
  // A pong to a probe sent before the link came back (a retransmission) does not end it...
  liveness.heard(21_000, 1_500);
  assert.equal(liveness.check(21_001 + PEER_SILENCE_MS), undefined);
  // ...the pong to one sent after does: from there, the 5 s rule.
  liveness.heard(22_000, 1_000);
  assert.equal(liveness.check(22_000 + PEER_SILENCE_MS), undefined);
  assert.equal(liveness.check(22_001 + PEER_SILENCE_MS), "no answer for 5 s");
});
