import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

Deno.test("TokenBucket allows its burst, then its rate", () => {
  const bucket = new TokenBucket(1_000, 2_000, 0);
  assert.ok(bucket.take(2_000, 0));
  assert.ok(!bucket.take(1, 0));
  assert.ok(!bucket.take(600, 500)); // 500 tokens back
  assert.ok(bucket.take(1_000, 1_000)); // 1,000 more: 1,500... minus nothing taken above
  assert.ok(!bucket.take(2_001, 60_000)); // never more than the burst
  assert.ok(bucket.take(2_000, 60_000));
  assert.throws(() => new TokenBucket(0, 1, 0), RangeError);
});
