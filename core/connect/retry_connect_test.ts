// The first connect's retries with a recording sleep: no timer, every wait exact.
import assert from "node:assert/strict";
import { Backoff } from "./backoff.ts";
import { connectWithRetries } from "./retry_connect.ts";

/** A sleep that returns at once and records what it was asked. */
function recordingSleep() {
  const waits: number[] = [];
  return {
    waits,
    sleep: (ms: number, signal: AbortSignal) => {
      waits.push(ms);
      signal.throwIfAborted();
      return Promise.resolve();
    },
  };
}

Deno.test("connectWithRetries(): tries at once, then after each backoff wait until one works", async () => {
  const { waits, sleep } = recordingSleep();
  const failures: [string, number, number][] = [];
  let calls = 0;
  const result = await connectWithRetries({
    connect: () => ++calls < 4 ? Promise.reject(new Error(`no ${calls}`)) : Promise.resolve("up"),
    backoff: new Backoff({ random: () => 1 }),
    sleep,
    onAttemptFailed: (error, attempt, retryInMs) =>
      failures.push([(error as Error).message, attempt, retryInMs]),
  });
  assert.deepEqual(result, { value: "up", attempts: 4 });
  // The reconnect's backoff: 1 s, 2 s, 4 s (at the top of the jitter).
  assert.deepEqual(waits, [1_000, 2_000, 4_000]);
  assert.deepEqual(failures, [["no 1", 1, 1_000], ["no 2", 2, 2_000], ["no 3", 3, 4_000]]);
});

Deno.test("connectWithRetries(): a failure trying again cannot help ends it at once", async () => {
  const { waits, sleep } = recordingSleep();
  const refused = new Error("refused");
  let calls = 0;
  await assert.rejects(
    connectWithRetries({
      connect: () => Promise.reject(++calls === 1 ? new Error("unreachable") : refused),
      giveUp: (error) => error === refused ? new Error("refused: final") : undefined,
      sleep,
    }),
    /refused: final/,
  );
  assert.equal(calls, 2);
  assert.equal(waits.length, 1);
});

Deno.test("connectWithRetries(): an abort stops the attempts, during a wait or an attempt", async () => {
  const stop = new AbortController();
  let calls = 0;
  const waiting = connectWithRetries({
    connect: () => {
      calls++;
      return Promise.reject(new Error("down"));
    },
    signal: stop.signal,
  });
  // The first attempt failed at once; the real timer waits 0.5-1 s for the second.
  await new Promise((resolve) => setTimeout(resolve, 50));
  stop.abort(new Error("shutting down"));
  await assert.rejects(waiting, /shutting down/);
  assert.equal(calls, 1);

  const midAttempt = new AbortController();
  const attempt = connectWithRetries({
    connect: (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(new Error("aborted")))
      ),
    signal: midAttempt.signal,
  });
  midAttempt.abort(new Error("shutting down"));
  await assert.rejects(attempt, /shutting down/);
});
