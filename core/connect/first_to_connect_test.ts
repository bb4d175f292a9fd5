import assert from "node:assert/strict";
import { memoryConnectionPair, type PeerConnection } from "../transport/mod.ts";
import { AllAttemptsFailedError, firstToConnect } from "./first_to_connect.ts";

const later = <T>(ms: number, value: () => T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value()), ms));

Deno.test("firstToConnect() takes the first success and closes a later one", async () => {
  const [slow] = memoryConnectionPair();
  const [fast] = memoryConnectionPair();
  const result = await firstToConnect([
    { label: "slow", connect: () => later(50, () => slow) },
    { label: "fast", connect: () => later(5, () => fast) },
    { label: "broken", connect: () => Promise.reject(new Error("no route")) },
  ]);
  assert.equal(result.label, "fast");
  assert.equal(result.conn, fast);
  const info = await slow.closed;
  assert.match(info.reason, /another path was faster/);
  fast.close();
});

Deno.test("firstToConnect() reports every failure when none connects", async () => {
  const error = await firstToConnect([
    { label: "direct", connect: () => Promise.reject(new Error("timed out")) },
    { label: "relay", connect: () => Promise.reject(new Error("refused")) },
  ]).catch((e) => e);
  assert.ok(error instanceof AllAttemptsFailedError);
  assert.match(error.message, /direct: timed out; relay: refused/);
  const single = await firstToConnect([
    { label: "direct", connect: (): Promise<PeerConnection> => Promise.reject(new Error("only")) },
  ]).catch((e) => e);
  assert.equal(single.message, "only");
});

Deno.test("firstToConnect() aborts the losers' signal and keeps a nested winner's label", async () => {
  const [nested] = memoryConnectionPair();
  let loserSignal: AbortSignal | undefined;
  const result = await firstToConnect([
    {
      label: "lookup",
      connect: () => later(5, () => ({ conn: nested, label: "relay http://found/" })),
    },
    {
      label: "slow",
      connect: (signal) => {
        loserSignal = signal;
        return new Promise<PeerConnection>((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("aborted")))
        );
      },
    },
  ]);
  assert.equal(result.label, "relay http://found/");
  assert.equal(result.conn, nested);
  assert.equal(loserSignal?.aborted, true);
  nested.close();
});

Deno.test("firstToConnect() passes a parent's abort on to every attempt of a nested race", async () => {
  const parent = new AbortController();
  const heard: AbortSignal[] = [];
  const stalled = (label: string) => ({
    label,
    connect: (signal: AbortSignal) => {
      heard.push(signal);
      return new Promise<never>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason))
      );
    },
  });
  const race = firstToConnect([stalled("a"), stalled("b")], parent.signal);
  parent.abort(new Error("the outer race was won"));
  await assert.rejects(race, /the outer race was won/);
  assert.equal(heard.length, 2);
  assert.ok(heard.every((signal) => signal.aborted));
});
