import assert from "node:assert/strict";
import { DEFAULT_SEND_BUDGET, SendBudget } from "./send_budget.ts";

const limits = { datagramsPerClient: 1_000, datagramsTotal: 2_500, answersPerClient: 100 };

Deno.test("send budget: datagrams stop at a client's cap, one message over at most", () => {
  const budget = new SendBudget(limits);
  const client = budget.client();
  assert.equal(client.datagramRefusal(), undefined);
  client.queue(1_000);
  assert.equal(client.datagramRefusal(), undefined, "at the cap, not over it");
  client.queue(600);
  assert.equal(client.datagramRefusal(), "client-full");
  client.sent(600);
  assert.equal(client.datagramRefusal(), undefined);
  assert.equal(budget.queued, 1_000);
});

Deno.test("send budget: datagrams stop for every client once the relay's total is over", () => {
  const budget = new SendBudget(limits);
  const [a, b, c, d] = [budget.client(), budget.client(), budget.client(), budget.client()];
  for (const client of [a, b, c]) client.queue(900);
  assert.equal(budget.queued, 2_700);
  // d has nothing waiting, yet the relay as a whole is over.
  assert.equal(d.datagramRefusal(), "relay-full");
  a.sent(900);
  assert.equal(d.datagramRefusal(), undefined);
});

Deno.test("send budget: answers fit until the client's answer cap, and free up as they leave", () => {
  const client = new SendBudget(limits).client();
  client.queue(500); // datagrams do not count against answers
  assert.ok(client.answerFits(100));
  client.queue(60, true);
  assert.ok(client.answerFits(40));
  assert.ok(!client.answerFits(41));
  assert.equal(client.answers, 60);
  assert.equal(client.queued, 560);
  client.sent(60, true);
  assert.ok(client.answerFits(100));
});

Deno.test("send budget: a released client's bytes leave the total, and late reports are ignored", () => {
  const budget = new SendBudget(limits);
  const client = budget.client();
  const other = budget.client();
  client.queue(700);
  client.queue(50, true);
  other.queue(10);
  client.release();
  assert.equal(budget.queued, 10);
  assert.equal(client.queued, 0);
  // The socket reports its discarded writes after the close: counted once only.
  client.sent(700);
  client.sent(50, true);
  client.queue(5);
  assert.equal(budget.queued, 10);
  client.release();
  assert.equal(budget.queued, 10);
});

Deno.test("send budget: caps must be positive integers; the defaults are the documented figures", () => {
  assert.throws(() => new SendBudget({ ...limits, answersPerClient: 0 }), RangeError);
  assert.throws(() => new SendBudget({ ...limits, datagramsTotal: 1.5 }), RangeError);
  assert.deepEqual({ ...new SendBudget().limits }, {
    datagramsPerClient: 2 * 1024 * 1024,
    datagramsTotal: 256 * 1024 * 1024,
    answersPerClient: 8 * 1024,
  });
  assert.equal(new SendBudget().limits.answersPerClient, DEFAULT_SEND_BUDGET.answersPerClient);
});
