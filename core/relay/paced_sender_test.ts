// The paced sender without sockets: bursts never exceed their size within one turn, order
// holds, the queue is bounded in bytes (as a flood from a relay peer would find it), and a
// failing send does not stop the rest.
import assert from "node:assert/strict";
import { PACED_BURST, PACED_MAX_QUEUED_BYTES, PacedSender, QueueBudget } from "./paced_sender.ts";

/** Turns released by hand (all waiting senders at once), and what was sent in each. */
function turns() {
  const perTurn: number[][] = [[]];
  let waiting: (() => void)[] = [];
  return {
    perTurn,
    nextTurn: () => new Promise<void>((resolve) => waiting.push(resolve)),
    record: (datagram: Uint8Array) => {
      perTurn.at(-1)!.push(datagram[0] | (datagram[1] << 8));
      return Promise.resolve();
    },
    async step() {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const go = waiting;
      waiting = [];
      perTurn.push([]);
      for (const resolve of go) resolve();
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}

const datagram = (i: number, size = 1_200) => {
  const out = new Uint8Array(size);
  out[0] = i & 0xff;
  out[1] = i >> 8;
  return out;
};

Deno.test("PacedSender: a burst of 1,000 goes out at most PACED_BURST per turn, in order", async () => {
  const t = turns();
  const sender = new PacedSender(t.record, { nextTurn: t.nextTurn });
  for (let i = 0; i < 1_000; i++) sender.push(datagram(i));
  for (let step = 0; step < 40 && sender.queuedBytes > 0; step++) await t.step();
  assert.equal(sender.queuedBytes, 0);
  const sent = t.perTurn.flat();
  assert.deepEqual(sent, Array.from({ length: 1_000 }, (_, i) => i));
  // The first datagram left at once, before the rest were pushed: one burst plus it.
  assert.ok(Math.max(...t.perTurn.map((turn) => turn.length)) <= PACED_BURST + 1);
  assert.ok(t.perTurn.length >= Math.ceil(1_000 / (PACED_BURST + 1)));
});

Deno.test("PacedSender: a trickle is sent at once, with no turn waited", async () => {
  let turnsWaited = 0;
  const sent: number[] = [];
  const sender = new PacedSender((d) => {
    sent.push(d[0]);
    return Promise.resolve();
  }, {
    nextTurn: () => {
      turnsWaited++;
      return Promise.resolve();
    },
  });
  for (let i = 0; i < 5; i++) {
    sender.push(datagram(i));
    assert.equal(sent.length, i + 1, "sent synchronously");
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.equal(turnsWaited, 0);
});

Deno.test("PacedSender: a flood past the byte cap is dropped and counted; memory stays at the cap", async () => {
  const t = turns();
  const sender = new PacedSender(t.record, { nextTurn: t.nextTurn });
  // 10,000 full datagrams at once: 12 MB, six times the cap.
  for (let i = 0; i < 10_000; i++) {
    sender.push(datagram(i));
    assert.ok(sender.queuedBytes <= PACED_MAX_QUEUED_BYTES);
  }
  const kept = Math.floor(PACED_MAX_QUEUED_BYTES / 1_200);
  assert.ok(sender.dropped >= 10_000 - kept - 1 && sender.dropped <= 10_000 - kept + 1);
  for (let step = 0; step < 100 && sender.queuedBytes > 0; step++) await t.step();
  assert.equal(sender.queuedBytes, 0);
  assert.equal(t.perTurn.flat().length + sender.dropped, 10_000);
});

Deno.test("PacedSender: a send that fails does not stop the ones after it", async () => {
  const sent: number[] = [];
  const sender = new PacedSender((d) => {
    if (d[0] === 1) return Promise.reject(new Error("socket closed"));
    sent.push(d[0]);
    return Promise.resolve();
  });
  for (let i = 0; i < 3; i++) sender.push(datagram(i));
  for (let i = 0; i < 5 && sent.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.deepEqual(sent, [0, 2]);
});

Deno.test("PacedSender: senders sharing a budget hold no more than it together", async () => {
  const t = turns();
  const shared = new QueueBudget(100_000);
  const senders = Array.from(
    { length: 8 },
    () => new PacedSender(t.record, { nextTurn: t.nextTurn, shared }),
  );
  // Many relayed peers bursting at once: each within its own cap, all past the shared one.
  for (let i = 0; i < 400; i++) {
    for (const sender of senders) sender.push(datagram(i));
    assert.ok(shared.used <= shared.max);
  }
  assert.ok(senders.reduce((sum, s) => sum + s.dropped, 0) > 0);
  for (let step = 0; step < 100 && shared.used > 0; step++) await t.step();
  assert.equal(shared.used, 0);
});
