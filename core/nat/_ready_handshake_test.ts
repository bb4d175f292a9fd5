import assert from "node:assert/strict";
import { _ReadyHandshake, type _ReadyStep } from "./_ready_handshake.ts";

/** Two handshakes joined by an in-memory link with a fixed one-way delay and a loss rule. */
function simulate(options: {
  readyAt: [number, number];
  delayMs?: number;
  drop?: (from: 0 | 1, sequence: number) => boolean;
  untilMs?: number;
}) {
  const sides = [new _ReadyHandshake(), new _ReadyHandshake()];
  const delay = options.delayMs ?? 5;
  const inFlight: { at: number; to: 0 | 1; heardYou: boolean }[] = [];
  const doneAt: (number | undefined)[] = [undefined, undefined];
  const sent = [0, 0];
  const act = (side: 0 | 1, step: _ReadyStep, now: number) => {
    if (step.send) {
      const sequence = sent[side]++;
      if (!options.drop?.(side, sequence)) {
        inFlight.push({ at: now + delay, to: side === 0 ? 1 : 0, heardYou: step.heardYou });
      }
    }
    if (step.done) doneAt[side] ??= now;
  };
  for (let now = 0; now <= (options.untilMs ?? 5_000); now++) {
    for (const side of [0, 1] as const) {
      if (now === options.readyAt[side]) act(side, sides[side].localReady(now), now);
    }
    for (const message of inFlight.filter((m) => m.at === now)) {
      act(message.to, sides[message.to].received(message.heardYou, now), now);
    }
    for (const side of [0, 1] as const) act(side, sides[side].tick(now), now);
  }
  return { doneAt, sent };
}

Deno.test("_ReadyHandshake finishes both sides after one exchange on a lossless link", () => {
  const { doneAt, sent } = simulate({ readyAt: [0, 30] });
  // B hears A's READY at 5 but is ready only at 30; A hears B at 35, B hears A's ack at 40.
  assert.deepEqual(doneAt, [35, 40]);
  // No ping-pong: a handful of datagrams in total.
  assert.ok(sent[0] + sent[1] <= 4, `sent ${sent}`);
});

Deno.test("_ReadyHandshake never finishes a side before the peer became ready", () => {
  for (const readyAt of [[0, 0], [0, 400], [700, 20]] as [number, number][]) {
    const { doneAt } = simulate({ readyAt });
    for (const side of [0, 1]) {
      const other = readyAt[side === 0 ? 1 : 0];
      assert.ok(
        doneAt[side] !== undefined && doneAt[side]! > other,
        `side ${side} done at ${doneAt[side]}`,
      );
    }
  }
});

Deno.test("_ReadyHandshake never finishes while the peer stays silent, and keeps repeating", () => {
  const handshake = new _ReadyHandshake({ intervalMs: 50 });
  let sends = handshake.localReady(0).send ? 1 : 0;
  for (let now = 1; now <= 10_000; now++) {
    const step = handshake.tick(now);
    assert.equal(step.done, false);
    if (step.send) sends++;
  }
  assert.equal(sends, 201);
});

Deno.test("_ReadyHandshake finishes after the linger when the acknowledgement is lost", () => {
  // Every datagram from B after its first is lost: A hears B once, B never hears A's ack.
  const { doneAt } = simulate({
    readyAt: [0, 0],
    drop: (from, sequence) => from === 0 && sequence > 0,
  });
  // A: heard B at 5 with heardYou=false, then B's later READYs (heardYou=true once B heard A's first) arrive.
  assert.ok(doneAt[0] !== undefined && doneAt[0] < 100, `A done at ${doneAt[0]}`);
  // B heard A's first READY at 5 and never gets an ack: it lingers 1 s, then finishes.
  assert.equal(doneAt[1], 1_005);
});

Deno.test("_ReadyHandshake leaves a side unfinished when nothing it sends arrives", () => {
  const { doneAt } = simulate({ readyAt: [0, 0], drop: (from) => from === 0 });
  assert.equal(doneAt[1], undefined, "B never heard A: it must not finish");
  assert.equal(doneAt[0], 1_005, "A heard B, got no ack, finished after the linger");
});

Deno.test("_ReadyHandshake finishes both sides under heavy random loss", () => {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let run = 0; run < 50; run++) {
    const { doneAt } = simulate({
      readyAt: [0, Math.floor(random() * 300)],
      drop: () => random() < 0.5,
    });
    assert.ok(doneAt[0] !== undefined && doneAt[1] !== undefined, `run ${run}: ${doneAt}`);
  }
});

Deno.test("_ReadyHandshake answers a peer that has not heard it even after finishing", () => {
  const handshake = new _ReadyHandshake();
  handshake.localReady(0);
  assert.equal(handshake.received(true, 10).done, true);
  assert.deepEqual(handshake.received(false, 20), { send: true, heardYou: true, done: true });
  assert.deepEqual(handshake.received(true, 30), { send: false, heardYou: true, done: true });
});
