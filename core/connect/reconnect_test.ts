// The reconnect policy with a fake clock and in-memory connections: no socket,
// no real timer, so every wait is exact.
import assert from "node:assert/strict";
import { memoryConnectionPair, type PeerConnection } from "../transport/mod.ts";
import { Backoff } from "./backoff.ts";
import { Reconnector, type ReconnectorOptions, STABLE_CONNECTION_MS } from "./reconnect.ts";

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Time that moves only when told; records every wait asked of it. */
class FakeClock {
  now = 0;
  readonly waits: number[] = [];
  #timers: { at: number; resolve: () => void }[] = [];

  sleep = (ms: number, signal: AbortSignal): Promise<void> => {
    this.waits.push(ms);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = { at: this.now + ms, resolve };
      this.#timers.push(timer);
      signal.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
    });
  };

  /** Moves time on by `ms`, firing due timers in order and letting each's effects run. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.now = due.at;
      due.resolve();
    }
    this.now = end;
    await settle();
  }
}

/** How `promise` settled so far: "pending", its value, or its error. */
function track<T>(promise: Promise<T>): { outcome: unknown } {
  const tracked: { outcome: unknown } = { outcome: "pending" };
  promise.then((value) => tracked.outcome = value, (error) => tracked.outcome = error);
  return tracked;
}

/** What a test reconnector did, in order. */
type Event = string;

/**
 * A reconnector of in-memory connections. `outcomes` says how each attempt
 * goes: "ok" connects, an Error fails with it. Returns the server ends too.
 */
function harness(
  outcomes: ("ok" | Error)[],
  options: Partial<ReconnectorOptions<PeerConnection>> = {},
) {
  const clock = new FakeClock();
  const events: Event[] = [];
  const servers: PeerConnection[] = [];
  const dial = () => {
    const [client, server] = memoryConnectionPair();
    servers.push(server);
    return client;
  };
  let attempts = 0;
  const first = dial();
  const reconnector = new Reconnector<PeerConnection>(first, {
    connect: () => {
      const outcome = outcomes[attempts++] ?? new Error("no more outcomes");
      events.push(`connect ${attempts}`);
      return outcome === "ok" ? Promise.resolve(dial()) : Promise.reject(outcome);
    },
    lost: (conn) => conn.closed.then((info) => info.reason),
    close: (conn, reason) => conn.close({ code: 0, reason }),
    waitMs: 10_000,
    backoff: new Backoff({ random: () => 0.5 }),
    sleep: clock.sleep,
    now: () => clock.now,
    onLost: (reason) => events.push(`lost: ${reason}`),
    onAttemptFailed: (error, attempt, retryInMs) =>
      events.push(`attempt ${attempt} failed: ${(error as Error).message}; next in ${retryInMs}`),
    onRestored: (_, n, downMs) => events.push(`restored after ${n} attempts, ${downMs} ms`),
    ...options,
  });
  /** The server end of the live connection goes away. */
  const dropServer = (reason = "server gone") => servers.at(-1)!.close({ code: 3, reason });
  return { clock, events, reconnector, first, servers, dropServer };
}

Deno.test("Reconnector replaces a lost connection after a backoff wait and says so", async () => {
  const { clock, events, reconnector, first, dropServer } = harness(["ok"]);
  assert.equal(reconnector.state, "connected");
  assert.equal(await reconnector.current(), first);
  dropServer("server restarting");
  await settle();
  assert.equal(reconnector.state, "reconnecting");
  assert.equal(reconnector.peek(), undefined);
  await clock.advance(749);
  assert.deepEqual(events, ["lost: server restarting"]);
  await clock.advance(1);
  assert.equal(reconnector.state, "connected");
  const next = reconnector.peek();
  assert.ok(next !== undefined && next !== first);
  assert.equal(await reconnector.current(), next);
  assert.deepEqual(events, [
    "lost: server restarting",
    "connect 1",
    "restored after 1 attempts, 750 ms",
  ]);
  reconnector.close("done");
});

Deno.test("Reconnector waits 1 s doubling to 30 s, with jitter, between failed attempts", async () => {
  const full = new Error("server refused the session: full");
  const { clock, events, reconnector, dropServer } = harness([...Array(7).fill(full), "ok"]);
  dropServer();
  await clock.advance(200_000);
  // Equal jitter at random 0.5: three quarters of each base (1, 2, 4, 8, 16, 30, 30, 30 s).
  assert.deepEqual(clock.waits, [750, 1_500, 3_000, 6_000, 12_000, 22_500, 22_500, 22_500]);
  assert.equal(reconnector.state, "connected");
  assert.equal(events.filter((e) => e.startsWith("attempt")).length, 7);
  assert.equal(events[2], "attempt 1 failed: server refused the session: full; next in 1500");
  assert.equal(events.at(-1), "restored after 8 attempts, 90750 ms");
  reconnector.close("done");
});

Deno.test("Reconnector.current() waits for the next connection, but not beyond waitMs", async () => {
  const down = new Error("no answer");
  // Attempts at 750, 2,250, 5,250 and 11,250 ms fail; the one at 23,250 ms works.
  const { clock, reconnector, dropServer } = harness([down, down, down, down, "ok"]);
  dropServer();
  await settle();
  const early = track(reconnector.current());
  await clock.advance(9_999);
  assert.equal(early.outcome, "pending");
  await clock.advance(1);
  assert.equal(String(early.outcome), "Error: not reconnected within 10 s");
  await clock.advance(5_000);
  // Asked 15 s in: served as soon as the connection is back, 8.25 s later.
  const late = track(reconnector.current());
  await clock.advance(8_249);
  assert.equal(late.outcome, "pending");
  assert.equal(reconnector.state, "reconnecting");
  await clock.advance(1);
  assert.equal(reconnector.state, "connected");
  assert.equal(late.outcome, reconnector.peek());
  reconnector.close("done");
});

Deno.test("Reconnector ends with the refusal that giveUp returns, and stops trying", async () => {
  const refused = new Error("server refused authentication: invalid token");
  const { clock, events, reconnector, dropServer } = harness([new Error("no answer"), refused], {
    giveUp: (error) =>
      /refused authentication/.test((error as Error).message)
        ? new Error(`${(error as Error).message} (ask the operator)`)
        : undefined,
  });
  dropServer();
  await settle();
  const waiting = reconnector.current().catch((e) => e);
  await clock.advance(2_250);
  const ended = await reconnector.ended;
  assert.equal(ended.message, "server refused authentication: invalid token (ask the operator)");
  assert.equal(reconnector.state, "ended");
  assert.equal(await waiting, ended);
  await assert.rejects(reconnector.current(), /ask the operator/);
  await clock.advance(100_000);
  assert.deepEqual(events.filter((e) => e.startsWith("connect")), ["connect 1", "connect 2"]);
});

Deno.test("Reconnector.close() stops at once, even between attempts, and closes what it holds", async () => {
  // Between attempts: no more attempts, waiters told why, `ended` not settled.
  const down = new Error("no answer");
  const between = harness([down, down, down]);
  between.dropServer();
  await between.clock.advance(1_000);
  const waiting = between.reconnector.current().catch((e) => e);
  between.reconnector.close("client shut down");
  assert.equal(between.reconnector.state, "closed");
  assert.equal((await waiting).message, "client shut down");
  await between.clock.advance(100_000);
  assert.deepEqual(between.events.filter((e) => e.startsWith("connect")), ["connect 1"]);
  assert.equal(
    await Promise.race([between.reconnector.ended, settle().then(() => "not ended")]),
    "not ended",
  );

  // While connected: the live connection is closed with the reason.
  const live = harness([]);
  live.reconnector.close("client shut down");
  assert.equal((await live.servers[0].closed).reason, "client shut down");
  assert.equal(live.reconnector.peek(), undefined);
  await assert.rejects(live.reconnector.current(), /client shut down/);

  // During an attempt: the connection it makes after all is closed, not kept.
  let finish!: (conn: PeerConnection) => void;
  const [late, lateServer] = memoryConnectionPair();
  const during = harness([], {
    connect: () => new Promise((resolve) => finish = resolve),
  });
  during.dropServer();
  await during.clock.advance(750);
  during.reconnector.close("client shut down");
  finish(late);
  assert.equal((await lateServer.closed).reason, "client shut down");
});

Deno.test("Reconnector starts the backoff over only after a connection that lasted", async () => {
  const { clock, reconnector, dropServer } = harness(["ok", "ok", "ok"]);
  dropServer();
  await clock.advance(750); // back, after a first wait of 750 ms
  await clock.advance(1_000);
  dropServer(); // lived 1 s: the backoff goes on growing
  await clock.advance(1_500);
  await clock.advance(STABLE_CONNECTION_MS);
  dropServer(); // lived 30 s: stable, so the backoff starts over
  await clock.advance(750);
  assert.deepEqual(clock.waits, [750, 1_500, 750]);
  assert.equal(reconnector.state, "connected");
  reconnector.close("done");
});
