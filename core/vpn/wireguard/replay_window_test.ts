import assert from "node:assert/strict";
import { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from "./replay_window.ts";

Deno.test("ReplayWindow: in order, out of order within the window, each once", () => {
  const window = new ReplayWindow();
  for (let i = 0; i < 100; i++) assert.equal(window.accept(i), true, `first ${i}`);
  for (let i = 0; i < 100; i++) assert.equal(window.accept(i), false, `copy ${i}`);
  // A gap filled later, out of order.
  assert.equal(window.accept(150), true);
  for (let i = 149; i >= 100; i--) assert.equal(window.accept(i), true, `late ${i}`);
  assert.equal(window.accept(120), false);
});

Deno.test("ReplayWindow: the window's edge, long jumps, and counters out of range", () => {
  const window = new ReplayWindow();
  assert.equal(window.accept(0), true);
  const top = REPLAY_WINDOW + 10_000;
  assert.equal(window.accept(top), true);
  assert.equal(window.accept(top - REPLAY_WINDOW), true, "exactly at the edge");
  assert.equal(window.accept(top - REPLAY_WINDOW - 1), false, "just past it");
  // A long jump forgets everything behind: old counters are refused as too old,
  // and recent ones behind the new top are new.
  const far = top + 1_000_000;
  assert.equal(window.accept(far), true);
  assert.equal(window.accept(far - 5), true);
  assert.equal(window.accept(far - 5), false);
  assert.equal(window.accept(top), false);
  for (const bad of [-1, 1.5, Number.NaN, MAX_COUNTER + 1, Infinity]) {
    assert.equal(window.accept(bad), false, String(bad));
  }
  assert.equal(window.accept(MAX_COUNTER), true);
});

Deno.test("ReplayWindow: random reordering within the window loses nothing and accepts no copy", () => {
  const window = new ReplayWindow();
  const counters = Array.from({ length: 20_000 }, (_, i) => i);
  // Shuffle within blocks of 1,000: every packet stays well inside the window.
  for (let start = 0; start < counters.length; start += 1_000) {
    for (let i = start + 999; i > start; i--) {
      const j = start + Math.floor(Math.random() * (i - start + 1));
      [counters[i], counters[j]] = [counters[j], counters[i]];
    }
  }
  let accepted = 0;
  for (const counter of counters) if (window.accept(counter)) accepted++;
  assert.equal(accepted, counters.length);
  for (const counter of counters.slice(-500)) assert.equal(window.accept(counter), false);
});
