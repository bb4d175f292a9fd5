import assert from "node:assert/strict";
import { SourceLimiter } from "./source_limiter.ts";

Deno.test("source limiter: a burst, then the sustained rate, per IP", () => {
  const clock = { ms: 0 };
  const limiter = new SourceLimiter({ perSecond: 10, burst: 5, now: () => clock.ms });
  let allowed = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow("192.0.2.1")) allowed++;
  assert.equal(allowed, 5);
  assert.ok(limiter.allow("192.0.2.2"), "another source is not held back");
  clock.ms += 1000;
  allowed = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow("192.0.2.1")) allowed++;
  assert.equal(allowed, 5, "refilled up to the burst, not beyond");
  clock.ms += 300;
  allowed = 0;
  for (let i = 0; i < 100; i++) if (limiter.allow("192.0.2.1")) allowed++;
  assert.equal(allowed, 3);
});

Deno.test("source limiter: remembers at most maxSources", () => {
  const limiter = new SourceLimiter({ maxSources: 100 });
  for (let i = 0; i < 10_000; i++) limiter.allow(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  assert.equal(limiter.size, 100);
});
