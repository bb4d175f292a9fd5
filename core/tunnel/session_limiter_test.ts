import assert from "node:assert/strict";
import { fairShare, SessionLimiter } from "./session_limiter.ts";

Deno.test("fairShare() is a quarter of the pool, at least the floor, at most the pool", () => {
  assert.equal(fairShare(4_096, 4), 1_024);
  assert.equal(fairShare(100, 4), 25);
  assert.equal(fairShare(8, 4), 4);
  assert.equal(fairShare(2, 4), 2);
  assert.equal(fairShare(1, 4), 1);
});

Deno.test("SessionLimiter refuses a client past its share while others still get slots", () => {
  const pool = new SessionLimiter(8, { share: 2 });
  assert.ok(pool.tryAcquire("a"));
  assert.ok(pool.tryAcquire("a"));
  assert.equal(pool.tryAcquire("a"), false);
  assert.equal(pool.limitReached("a"), "share of one client, 2 of 8");
  assert.ok(pool.tryAcquire("b"));
  assert.equal(pool.active, 3);
  assert.equal(pool.activeFor("a"), 2);
  pool.release("a");
  assert.ok(pool.tryAcquire("a"), "a released slot is the client's again");
});

Deno.test("SessionLimiter says the pool's limit when the pool itself is full", () => {
  const pool = new SessionLimiter(3, { share: 2 });
  assert.ok(pool.tryAcquire("a"));
  assert.ok(pool.tryAcquire("b"));
  assert.ok(pool.tryAcquire("c"));
  assert.equal(pool.tryAcquire("d"), false);
  assert.equal(pool.limitReached("d"), "limit 3");
  assert.equal(pool.tryAcquire(), false, "an unkeyed slot counts against the pool only");
});

Deno.test("SessionLimiter without a client key counts the pool only", () => {
  const pool = new SessionLimiter(2);
  assert.equal(pool.share, 2);
  assert.ok(pool.tryAcquire());
  assert.ok(pool.tryAcquire());
  assert.equal(pool.tryAcquire(), false);
  pool.release();
  assert.equal(pool.active, 1);
});

Deno.test("SessionLimiter ignores a release for a client that holds nothing", () => {
  const pool = new SessionLimiter(4, { share: 2 });
  assert.ok(pool.tryAcquire("a"));
  pool.release("b");
  assert.equal(pool.active, 1);
  assert.equal(pool.activeFor("a"), 1);
});

Deno.test("forClient() views share one pool and each client's share", () => {
  const pool = new SessionLimiter(4, { share: 2 });
  const a1 = pool.forClient("a");
  const a2 = pool.forClient("a");
  assert.ok(a1.tryAcquire());
  assert.ok(a2.tryAcquire());
  assert.equal(a1.tryAcquire(), false, "two views of one client share its share");
  assert.match(a1.limitReached(), /share of one client/);
  a2.release();
  assert.equal(pool.activeFor("a"), 1);
});

Deno.test("SessionLimiter rejects sizes and shares that are not positive integers", () => {
  assert.throws(() => new SessionLimiter(0), RangeError);
  assert.throws(() => new SessionLimiter(4, { share: 0 }), RangeError);
  assert.throws(() => new SessionLimiter(4, { share: 1.5 }), RangeError);
  assert.equal(new SessionLimiter(4, { share: 9 }).share, 4);
});
