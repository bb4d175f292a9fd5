import assert from "node:assert/strict";
import { LinkModel } from "./link_model.ts";
import { seededRandom } from "./seeded_random.ts";

/** Takes every frame due by `nowUs`, with the departure time each had. */
function drain<F>(link: LinkModel<F>, nowUs: number): [F, number][] {
  const out: [F, number][] = [];
  for (;;) {
    const at = link.nextDepartureUs();
    const frame = link.take(nowUs);
    if (frame === undefined) return out;
    out.push([frame, at]);
  }
}

Deno.test("LinkModel with no settings passes a frame through at the time it arrived", () => {
  const link = new LinkModel<string>();
  assert.equal(link.nextDepartureUs(), Infinity);
  assert.equal(link.offer("a", 1500, 5), "queued");
  assert.equal(link.nextDepartureUs(), 5);
  assert.equal(link.take(5), "a");
  assert.equal(link.take(5), undefined);
  assert.equal(link.pending, 0);
});

Deno.test("LinkModel holds each frame for exactly the one-way delay", () => {
  const link = new LinkModel<string>({ delayUs: 40_000 });
  link.offer("a", 100, 0);
  link.offer("b", 100, 250);
  assert.equal(link.take(39_999), undefined);
  assert.deepEqual(drain(link, 40_000), [["a", 40_000]]);
  assert.deepEqual(drain(link, 50_000), [["b", 40_250]]);
});

Deno.test("LinkModel spaces a burst by its serialization time under a rate cap", () => {
  // 1,500 bytes at 12 Mbit/s take exactly 1,000 µs.
  const link = new LinkModel<number>({ delayUs: 10_000, rateBitsPerSecond: 12e6 });
  for (let i = 0; i < 4; i++) assert.equal(link.offer(i, 1500, 0), "queued");
  assert.deepEqual(drain(link, 1e9), [[0, 11_000], [1, 12_000], [2, 13_000], [3, 14_000]]);
  // An idle link starts serializing at once; a smaller frame takes less time.
  link.offer(4, 750, 100_000);
  assert.deepEqual(drain(link, 1e9), [[4, 110_500]]);
});

Deno.test("LinkModel drops the tail once the queue holds queueBytes not yet serialized", () => {
  const link = new LinkModel<number>({ rateBitsPerSecond: 12e6, queueBytes: 3000 });
  const outcomes = [0, 1, 2, 3].map((i) => link.offer(i, 1500, 0));
  assert.deepEqual(outcomes, ["queued", "queued", "overflow", "overflow"]);
  assert.equal(link.backlogBytes(0), 3000);
  assert.equal(link.backlogBytes(1000), 1500);
  // Half of the backlog is serialized by 1,000 µs: room for one more full frame.
  assert.equal(link.offer(4, 1500, 1000), "queued");
  assert.equal(link.offer(5, 1500, 1000), "overflow");
  assert.deepEqual(drain(link, 1e9), [[0, 1000], [1, 2000], [4, 3000]]);
  assert.deepEqual(link.counters, {
    offered: 6,
    lost: 0,
    overflowed: 3,
    departed: 3,
    departedBytes: 4500,
  });
});

Deno.test("LinkModel loses the configured share of 100,000 frames, the same ones per seed", () => {
  const run = (seed: number) => {
    const link = new LinkModel<number>({ loss: 0.01, random: seededRandom(seed) });
    const lost: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      if (link.offer(i, 1200, i) === "lost") lost.push(i);
      link.take(i);
    }
    assert.equal(link.counters.lost + link.counters.departed, 100_000);
    return lost;
  };
  const lost = run(7);
  // Binomial(100,000, 0.01): mean 1,000, standard deviation ~31; allow 5 of them.
  assert.ok(Math.abs(lost.length - 1000) < 160, `${lost.length} lost`);
  assert.deepEqual(run(7), lost);
  assert.notDeepEqual(run(8), lost);
});

Deno.test("LinkModel with loss 1 loses everything and with loss 0 draws no random number", () => {
  assert.equal(new LinkModel({ loss: 1 }).offer("a", 1, 0), "lost");
  const link = new LinkModel<string>({
    random: () => assert.fail("random() called"),
  });
  assert.equal(link.offer("a", 1, 0), "queued");
});

Deno.test("LinkModel jitter keeps the order unless reorder is set", () => {
  const frames = 2000;
  const delayUs = 1000;
  const jitterUs = 500;
  const run = (reorder: boolean) => {
    const link = new LinkModel<number>({ delayUs, jitterUs, reorder, random: seededRandom(3) });
    for (let i = 0; i < frames; i++) link.offer(i, 100, i * 10);
    const out = drain(link, 1e9);
    assert.equal(out.length, frames);
    for (let k = 1; k < out.length; k++) assert.ok(out[k][1] >= out[k - 1][1], "departures sorted");
    return out;
  };
  const inOrder = run(false);
  assert.deepEqual(inOrder.map(([i]) => i), [...Array(frames).keys()]);
  for (const [i, at] of inOrder) assert.ok(at >= i * 10 + delayUs - jitterUs);
  const reordered = run(true);
  assert.notDeepEqual(reordered.map(([i]) => i), [...Array(frames).keys()]);
  for (const [i, at] of reordered) {
    assert.ok(Math.abs(at - (i * 10 + delayUs)) <= jitterUs, `frame ${i} left at ${at}`);
  }
  assert.deepEqual(reordered.map(([i]) => i).sort((a, b) => a - b), [...Array(frames).keys()]);
});

Deno.test("LinkModel grows its ring and keeps every pending frame in order", () => {
  const link = new LinkModel<number>({ delayUs: 1e6, initialCapacity: 4 });
  for (let i = 0; i < 3; i++) link.offer(i, 1, i);
  link.take(1e6); // the head moves, so the ring wraps before it grows
  for (let i = 3; i < 100; i++) link.offer(i, 1, i);
  assert.equal(link.pending, 99);
  assert.deepEqual(drain(link, 2e6).map(([i]) => i), [...Array(100).keys()].slice(1));
});

Deno.test("LinkModel rejects negative settings and a loss outside [0, 1]", () => {
  for (
    const options of [
      { delayUs: -1 },
      { jitterUs: -1 },
      { loss: 1.5 },
      { loss: NaN },
      { rateBitsPerSecond: -1 },
      { rateBitsPerSecond: 1e6, queueBytes: -1 },
    ]
  ) {
    assert.throws(() => new LinkModel(options), RangeError, JSON.stringify(options));
  }
});
