import assert from "node:assert/strict";
import {
  MAX_REQ_ATTEMPTS,
  RATE_LIMIT_FIRST_PAUSE_MS,
  RATE_LIMIT_MAX_PAUSE_MS,
  refusalKind,
  RelayHealth,
} from "./relay_health.ts";

Deno.test("refusalKind: NIP-01's rate-limited prefix, or a NOTICE that speaks of a rate limit", () => {
  assert.equal(refusalKind("rate-limited: slow down"), "rate-limited");
  assert.equal(refusalKind("rate limited"), "rate-limited");
  assert.equal(refusalKind("Rate limit exceeded"), "rate-limited");
  assert.equal(refusalKind("blocked: you are banned"), "other");
  assert.equal(refusalKind("duplicate: have it"), "other");
  assert.equal(refusalKind("invalid: limited to 16 tags"), "other");
  assert.equal(refusalKind(undefined), "other");
  assert.equal(refusalKind(42), "other");
});

Deno.test("RelayHealth: a REQ without EOSE is asked again, then the connection is made anew", () => {
  const health = new RelayHealth();
  health.connected();
  const actions = [];
  for (let i = 0; i < MAX_REQ_ATTEMPTS; i++) {
    health.subscribed();
    actions.push(health.eoseMissed());
  }
  assert.deepEqual(actions, [...Array(MAX_REQ_ATTEMPTS - 1).fill("resend"), "reconnect"]);
  // A new connection counts from zero.
  health.connected();
  health.subscribed();
  assert.equal(health.eoseMissed(), "resend");
  // An EOSE does too.
  health.subscribed();
  health.subscribed();
  health.eose();
  health.subscribed();
  assert.equal(health.eoseMissed(), "resend");
});

Deno.test("RelayHealth: rate limits pause the relay, doubling up to a minute; an accepted event starts over", () => {
  const health = new RelayHealth();
  let now = 1_000_000;
  assert.equal(health.paused(now), false);
  const pauses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const until = health.rateLimited(now);
    pauses.push(until - now);
    assert.equal(health.paused(now), true);
    assert.equal(health.paused(until - 1), true);
    // Refusals of what was sent before the pause do not lengthen it.
    assert.equal(health.rateLimited(now + 10), until);
    assert.equal(health.paused(until), false);
    now = until;
  }
  assert.deepEqual(pauses, [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
  assert.equal(pauses[0], RATE_LIMIT_FIRST_PAUSE_MS);
  assert.equal(Math.max(...pauses), RATE_LIMIT_MAX_PAUSE_MS);
  // An OK during a pause (for an event sent before it) does not reset it ...
  const until = health.rateLimited(now);
  health.accepted(now + 1);
  assert.equal(health.paused(until - 1), true);
  // ... one after it does: the next limit starts from the first pause.
  health.accepted(until);
  assert.equal(health.rateLimited(until) - until, RATE_LIMIT_FIRST_PAUSE_MS);
});

Deno.test("RelayHealth: each kind of trouble is reported once per relay", () => {
  const a = new RelayHealth();
  const b = new RelayHealth();
  assert.equal(a.firstReport("rate-limited"), true);
  assert.equal(a.firstReport("rate-limited"), false);
  assert.equal(a.firstReport("closed"), true);
  assert.equal(b.firstReport("rate-limited"), true);
});
