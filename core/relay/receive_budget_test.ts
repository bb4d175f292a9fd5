import assert from "node:assert/strict";
import { DEFAULT_RECEIVE_BUDGET, ReceiveBudget } from "./receive_budget.ts";

Deno.test("receive budget: a reservation that would take the total over is refused, nothing reserved", () => {
  const budget = new ReceiveBudget({ total: 1_000 });
  const [a, b, c] = [budget.client(), budget.client(), budget.client()];
  assert.ok(a.tryHold(400));
  assert.ok(b.tryHold(400));
  assert.equal(c.tryHold(300), false, "800 + 300 is over 1,000");
  assert.equal(c.held, 0);
  assert.equal(budget.held, 800);
  assert.ok(c.tryHold(200), "up to the total exactly");
  assert.equal(budget.held, 1_000);
  assert.equal(a.tryHold(1), false);
});

Deno.test("receive budget: bytes come back when freed and when a client is released", () => {
  const budget = new ReceiveBudget({ total: 1_000 });
  const [a, b] = [budget.client(), budget.client()];
  assert.ok(a.tryHold(600));
  assert.equal(b.tryHold(600), false);
  a.free(600); // its message was delivered
  assert.ok(b.tryHold(600));
  assert.ok(a.tryHold(400));
  b.release(); // its connection is gone
  assert.equal(budget.held, 400);
  assert.equal(b.held, 0);
  // After release a client holds nothing and counts nothing.
  b.free(600);
  assert.equal(b.tryHold(1), false);
  b.release();
  assert.equal(budget.held, 400);
  a.release();
  assert.equal(budget.held, 0);
});

Deno.test("receive budget: the default total is 64 MiB; a bad total is refused", () => {
  assert.equal(new ReceiveBudget().limits.total, DEFAULT_RECEIVE_BUDGET.total);
  assert.equal(DEFAULT_RECEIVE_BUDGET.total, 64 << 20);
  assert.throws(() => new ReceiveBudget({ total: 0 }), RangeError);
  assert.throws(() => new ReceiveBudget({ total: 1.5 }), RangeError);
});
