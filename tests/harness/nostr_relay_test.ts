// nostr-tools' pool (2.25.2) under Deno needs `--allow-net` for the relays' hosts
// and nothing else: it reads no environment variable and no file, and needs no
// --allow-sys (it uses Deno's global WebSocket). These tests pass with
// `--allow-net=127.0.0.1 --allow-run --allow-read` (run and read to start the relay
// with Deno.execPath()).
import { deepStrictEqual, equal, ok, rejects } from "node:assert/strict";
import type { Filter } from "nostr-tools/filter";
import { SimplePool, useWebSocketImplementation } from "nostr-tools/pool";
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure";
import {
  newSessionId,
  type NostrEvent,
  NostrSecretKey,
  openSignal,
  sealSignal,
  SIGNAL_KIND,
  type SignalMessage,
  transferId,
} from "../../core/nostr/mod.ts";
import { delay, raceTimeout, TIMED_OUT } from "./_timeout.ts";
import { startNostrRelay } from "./nostr_relay.ts";

/**
 * A pool that, once disposed, has seen every socket it opened closed (Deno's
 * sanitizers fail a test that leaves one open; nostr-tools closes without waiting).
 */
function openPool(options: { enableReconnect?: boolean } = {}): SimplePool & AsyncDisposable {
  const closed: Promise<void>[] = [];
  // SimplePool takes the class set here when it is constructed: one class per pool.
  useWebSocketImplementation(
    class extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        closed.push(new Promise((resolve) => this.addEventListener("close", () => resolve())));
      }
    },
  );
  const pool = new SimplePool(options);
  return Object.assign(pool, {
    async [Symbol.asyncDispose]() {
      pool.destroy();
      if ((await raceTimeout(Promise.all(closed), 2_000)) === TIMED_OUT) {
        throw new Error("Cannot close nostr-tools' sockets: still open after 2 s");
      }
    },
  });
}

/** What one subscription received: events that match its filter, the rest, why it closed. */
interface Inbox {
  events: NostrEvent[];
  invalid: unknown[];
  closedBecause: string[];
  close(): void;
}

/** Subscribes and waits for EOSE, so the relay has the subscription before anything is published. */
async function subscribe(pool: SimplePool, url: string, filter: Filter): Promise<Inbox> {
  const inbox: Inbox = { events: [], invalid: [], closedBecause: [], close: () => {} };
  let eose!: () => void;
  const eosed = new Promise<void>((resolve) => eose = resolve);
  const sub = pool.subscribe([url], filter, {
    onevent: (event) => inbox.events.push(event),
    oninvalidevent: (event) => inbox.invalid.push(event),
    oneose: eose,
    onclose: (reasons) => inbox.closedBecause.push(...reasons.map((r) => r.reason)),
  });
  inbox.close = () => sub.close();
  if ((await raceTimeout(eosed, 3_000)) === TIMED_OUT) throw new Error("No EOSE within 3 s");
  return inbox;
}

/** Polls `condition` every 10 ms for up to `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${what}`);
    await delay(10);
  }
}

function peers() {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const filter: Filter = {
    kinds: [SIGNAL_KIND],
    "#p": [server.publicKey.hex],
    "#t": [transferId(server.publicKey, client.publicKey)],
  };
  const request = (): SignalMessage => ({
    type: "request",
    session: newSessionId(),
    source: "tcp://127.0.0.1:22",
  });
  return { server, client, filter, request };
}

Deno.test("startNostrRelay() carries a sealed signal to a pool subscribed by #p and #t", async () => {
  await using relay = await startNostrRelay();
  await using subscriber = openPool();
  await using publisher = openPool();
  const { server, client, filter, request } = peers();
  const inbox = await subscribe(subscriber, relay.url, filter);

  const message = request();
  equal(await publisher.publish([relay.url], sealSignal(client, server.publicKey, message))[0], "");
  await until(() => inbox.events.length > 0, "the signal reaches the subscriber");
  deepStrictEqual(openSignal(server, client.publicKey, inbox.events[0]), message);
  inbox.close();
});

Deno.test("startNostrRelay() does not send events for another peer or transfer", async () => {
  await using relay = await startNostrRelay();
  await using subscriber = openPool();
  await using publisher = openPool();
  const { server, client, filter, request } = peers();
  const stranger = NostrSecretKey.generate();
  const inbox = await subscribe(subscriber, relay.url, filter);

  // The relay broadcasts before it answers OK, so whatever these would bring is
  // on the subscriber's socket, ahead of the matching event, once they are OK.
  await publisher.publish([relay.url], sealSignal(client, stranger.publicKey, request()))[0];
  await publisher.publish([relay.url], sealSignal(stranger, server.publicKey, request()))[0];
  const message = request();
  await publisher.publish([relay.url], sealSignal(client, server.publicKey, message))[0];
  await until(() => inbox.events.length > 0, "the matching signal reaches the subscriber");

  equal(inbox.events.length, 1);
  deepStrictEqual(openSignal(server, client.publicKey, inbox.events[0]), message);
  equal(inbox.invalid.length, 0, "the relay itself filtered on #p and #t");
  inbox.close();
});

Deno.test("startNostrRelay() with liveTagFilters false sends mismatched tags; nostr-tools drops them", async () => {
  await using relay = await startNostrRelay({ liveTagFilters: false });
  await using subscriber = openPool();
  await using publisher = openPool();
  const { server, client, filter, request } = peers();
  const stranger = NostrSecretKey.generate();
  const inbox = await subscribe(subscriber, relay.url, filter);

  await publisher.publish([relay.url], sealSignal(client, stranger.publicKey, request()))[0];
  await publisher.publish([relay.url], sealSignal(client, server.publicKey, request()))[0];
  await until(() => inbox.events.length > 0, "the matching signal reaches the subscriber");

  equal(inbox.events.length, 1);
  equal(inbox.invalid.length, 1, "@nostr-relay/core 0.0.40 ignores tag filters on live events");
  inbox.close();
});

Deno.test("startNostrRelay() answers REQ with stored events matching kinds, authors, #t and since", async () => {
  await using relay = await startNostrRelay();
  await using pool = openPool();
  const [alice, bob] = [generateSecretKey(), generateSecretKey()];
  const now = Math.floor(Date.now() / 1000);
  const note = (key: Uint8Array, topic: string, createdAt = now) =>
    finalizeEvent({ kind: 1, created_at: createdAt, tags: [["t", topic]], content: topic }, key);
  const wanted = note(alice, "alpha");
  const others = [note(alice, "beta"), note(bob, "alpha"), note(alice, "alpha", now - 600)];
  for (const event of [wanted, ...others]) equal(await pool.publish([relay.url], event)[0], "");

  const found = await pool.querySync([relay.url], {
    kinds: [1],
    authors: [getPublicKey(alice)],
    "#t": ["alpha"],
    since: now - 60,
  });
  deepStrictEqual(found.map((event) => event.id), [wanted.id]);
});

Deno.test("startNostrRelay() relays kind 24242 live only: it is ephemeral (20000-29999)", async () => {
  await using relay = await startNostrRelay();
  await using pool = openPool();
  const { server, client, filter, request } = peers();
  equal(await pool.publish([relay.url], sealSignal(client, server.publicKey, request()))[0], "");

  deepStrictEqual(await pool.querySync([relay.url], filter), []);
});

Deno.test("startNostrRelay() refuses an event whose signature does not verify", async () => {
  await using relay = await startNostrRelay();
  await using pool = openPool();
  const { server, client, request } = peers();
  const event = sealSignal(client, server.publicKey, request());
  const forged = { ...event, sig: (event.sig[0] === "0" ? "1" : "0") + event.sig.slice(1) };

  await rejects(pool.publish([relay.url], forged)[0], /invalid: signature is wrong/);
});

/** Publishes fresh signals until the subscriber has `count` events, for up to 5 s. */
async function publishUntilReceived(
  publisher: SimplePool,
  url: string,
  seal: () => NostrEvent,
  inbox: Inbox,
  count: number,
): Promise<void> {
  // After a reconnection nostr-tools asks again with since = the last created_at
  // + 1, so a signal from the same second as the last one received is filtered
  // out; and the REQ may reach the relay after a first publish.
  const deadline = Date.now() + 5_000;
  while (inbox.events.length < count && Date.now() < deadline) {
    await publisher.publish([url], seal())[0];
    await delay(100);
  }
  equal(inbox.events.length, count, "a signal published after the restart arrived");
}

Deno.test("startNostrRelay() restart({ graceful }): a pool with enableReconnect resubscribes", async () => {
  await using relay = await startNostrRelay();
  await using subscriber = openPool({ enableReconnect: true });
  await using publisher = openPool();
  const { server, client, filter, request } = peers();
  const connection = await subscriber.ensureRelay(relay.url);
  // nostr-tools waits 10 s before its first reconnection attempt by default.
  connection.resubscribeBackoff = [100, 100, 200, 400];
  const inbox = await subscribe(subscriber, relay.url, filter);
  await publisher.publish([relay.url], sealSignal(client, server.publicKey, request()))[0];
  await until(() => inbox.events.length === 1, "the first signal reaches the subscriber");

  await relay.restart({ graceful: true });
  const message = request();
  await publishUntilReceived(
    publisher,
    relay.url,
    () => sealSignal(client, server.publicKey, message),
    inbox,
    2,
  );
  ok(connection.connected);
  deepStrictEqual(inbox.closedBecause, []);
  deepStrictEqual(openSignal(server, client.publicKey, inbox.events[1]), message);
  inbox.close();
});

Deno.test("startNostrRelay() restart() drops connections: nostr-tools under Deno does not reconnect", async () => {
  await using relay = await startNostrRelay();
  await using subscriber = openPool({ enableReconnect: true });
  await using publisher = openPool();
  const { server, client, filter, request } = peers();
  const first = await subscribe(subscriber, relay.url, filter);

  await relay.restart();
  // Deno's WebSocket reports a dropped connection as `error` before `close`, and
  // nostr-tools 2.25.2 reconnects after a `close` alone: the subscription ends.
  await until(() => first.closedBecause.length > 0, "the subscription ends");
  deepStrictEqual(first.closedBecause, ["relay connection failed"]);
  const second = await subscribe(subscriber, relay.url, filter);
  const message = request();
  await publishUntilReceived(
    publisher,
    relay.url,
    () => sealSignal(client, server.publicKey, message),
    second,
    1,
  );
  deepStrictEqual(openSignal(server, client.publicKey, second.events[0]), message);
  second.close();
});

/** A raw WebSocket to `url` that collects the relay's messages, for the misbehaviour switches. */
async function rawRelayClient(url: string) {
  const socket = new WebSocket(url);
  const received: unknown[][] = [];
  socket.onmessage = (message) => received.push(JSON.parse(message.data));
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return {
    received,
    send: (message: unknown[]) => socket.send(JSON.stringify(message)),
    async [Symbol.asyncDispose]() {
      const closed = new Promise((resolve) => socket.onclose = resolve);
      socket.close();
      await closed;
    },
  };
}

function ephemeralEvent(secret: Uint8Array, i: number) {
  return finalizeEvent(
    { kind: 24242, created_at: Math.floor(Date.now() / 1000), tags: [], content: `${i}` },
    secret,
  );
}

Deno.test("startNostrRelay({ dropFirstReq }) ignores each connection's first REQ, answers the next", async () => {
  await using relay = await startNostrRelay({ dropFirstReq: true, logEvents: true });
  for (let connection = 0; connection < 2; connection++) {
    await using client = await rawRelayClient(relay.url);
    client.send(["REQ", "a", { kinds: [1] }]);
    await delay(500);
    deepStrictEqual(client.received, [], "the first REQ gets nothing");
    client.send(["REQ", "b", { kinds: [1] }]);
    await until(() => client.received.length > 0, "EOSE of the second REQ");
    deepStrictEqual(client.received, [["EOSE", "b"]]);
  }
  equal(relay.logLines().filter((line) => /^dropped REQ a \d+$/.test(line)).length, 2);
});

Deno.test("startNostrRelay({ rateLimit }) refuses a key's ephemeral events past the window's allowance", async () => {
  await using relay = await startNostrRelay({ rateLimit: { events: 2, windowMs: 1_500 } });
  await using client = await rawRelayClient(relay.url);
  const secret = generateSecretKey();
  const events = [0, 1, 2].map((i) => ephemeralEvent(secret, i));
  for (const event of events) client.send(["EVENT", event]);
  await until(() => client.received.length === 3, "three OKs");
  // Messages are validated concurrently: which one is refused is not fixed, only how many.
  deepStrictEqual(
    client.received.map((m) => m[1]).sort(),
    events.map((e) => e.id).sort(),
  );
  const refused = client.received.filter((m) => m[0] === "OK" && m[2] === false);
  equal(refused.length, 1);
  ok(String(refused[0][3]).startsWith("rate-limited: "));
  // Another key has its own allowance; the first one's comes back with the window.
  const other = ephemeralEvent(generateSecretKey(), 3);
  client.send(["EVENT", other]);
  await until(() => client.received.length === 4, "the other key's OK");
  deepStrictEqual(client.received[3].slice(0, 3), ["OK", other.id, true]);
  await delay(1_600);
  const later = ephemeralEvent(secret, 4);
  client.send(["EVENT", later]);
  await until(() => client.received.length === 5, "the OK after the window");
  deepStrictEqual(client.received[4].slice(0, 3), ["OK", later.id, true]);
});

Deno.test("startNostrRelay({ rateLimit: { answer: closed } }) says NOTICE, then CLOSED for each subscription", async () => {
  await using relay = await startNostrRelay({
    rateLimit: { events: 1, windowMs: 10_000, answer: "closed" },
  });
  await using client = await rawRelayClient(relay.url);
  client.send(["REQ", "s", { kinds: [24242] }]);
  await until(() => client.received.length === 1, "EOSE");
  const secret = generateSecretKey();
  client.send(["EVENT", ephemeralEvent(secret, 0)]);
  client.send(["EVENT", ephemeralEvent(secret, 1)]);
  await until(() => client.received.some((m) => m[0] === "CLOSED"), "CLOSED");
  const after = client.received.filter((m) => m[0] === "NOTICE" || m[0] === "CLOSED");
  deepStrictEqual(after.map((m) => m.slice(0, 2)), [["NOTICE", "rate limited: slow down"], [
    "CLOSED",
    "s",
  ]]);
  ok(String(after[1][2]).startsWith("rate-limited: "));
});
