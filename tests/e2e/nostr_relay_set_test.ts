// NostrRelaySet against a real Nostr relay (tests/harness/nostr_relay.ts): one
// dead relay does not hold up signaling through another; with none reachable
// the error names every relay tried; a relay that drops its connections
// without a close frame is reconnected and resubscribed by itself; a REQ
// the relay dropped is sent again; a relay that rate-limits (OK false, or
// NOTICE and CLOSED) is said once, paused, and sent one copy after the pause.
import assert from "node:assert/strict";
import {
  EOSE_TIMEOUT_MS,
  MAX_REQ_ATTEMPTS,
  type NostrEvent,
  NostrRelaySet,
  NostrSecretKey,
  RATE_LIMIT_FIRST_PAUSE_MS,
  sealSignal,
  SIGNAL_KIND,
  transferId,
} from "../../core/nostr/mod.ts";
import { startNostrRelay } from "../harness/mod.ts";

const DEAD = "ws://127.0.0.1:1";

function peers() {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const filterFor = (me: NostrSecretKey, peer: NostrSecretKey) => ({
    kinds: [SIGNAL_KIND],
    authors: [peer.publicKey.hex],
    "#p": [me.publicKey.hex],
    "#t": [transferId(me.publicKey, peer.publicKey)],
  });
  return { server, client, filterFor };
}

function inbox() {
  const events: NostrEvent[] = [];
  return { events, onEvent: (event: NostrEvent) => events.push(event) };
}

async function until(what: string, check: () => boolean, ms = 10_000) {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("NostrRelaySet: a dead relay beside a live one; events cross through the live one", async () => {
  await using relay = await startNostrRelay();
  const { server, client, filterFor } = peers();
  const received = inbox();
  const listening = NostrRelaySet.open({
    urls: [DEAD, relay.url],
    filter: filterFor(server, client),
    onEvent: received.onEvent,
  });
  const sending = NostrRelaySet.open({
    urls: [relay.url, DEAD],
    filter: filterFor(client, server),
    onEvent: () => {},
  });
  try {
    await listening.ready(5_000);
    await sending.ready(5_000);
    assert.deepEqual(listening.live, [relay.url]);
    const event = sealSignal(client, server.publicKey, {
      type: "request",
      session: "0".repeat(32),
      source: "tcp://127.0.0.1:22",
    });
    assert.equal(sending.publish(event), 1);
    await until("the event", () => received.events.some((e) => e.id === event.id));
  } finally {
    listening.close();
    sending.close();
  }
});

Deno.test("NostrRelaySet: with no relay reachable, the error names each one", async () => {
  const { server, client, filterFor } = peers();
  const set = NostrRelaySet.open({
    urls: [DEAD, "ws://127.0.0.1:2"],
    filter: filterFor(server, client),
    onEvent: () => {},
  });
  try {
    await assert.rejects(
      set.ready(1_500),
      /^Error: Cannot reach any Nostr relay: ws:\/\/127\.0\.0\.1:1 \(.+\), ws:\/\/127\.0\.0\.1:2 \(.+\)$/,
    );
  } finally {
    set.close();
  }
  assert.throws(
    () => NostrRelaySet.open({ urls: ["https://relay"], filter: {}, onEvent: () => {} }),
    /Invalid Nostr relay URL 'https:\/\/relay': expected ws:\/\/ or wss:\/\//,
  );
});

Deno.test("NostrRelaySet: a relay that drops every connection is reconnected and resubscribed", async () => {
  await using relay = await startNostrRelay();
  const { server, client, filterFor } = peers();
  const received = inbox();
  const listening = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(server, client),
    onEvent: received.onEvent,
  });
  const sending = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(client, server),
    onEvent: () => {},
  });
  try {
    await listening.ready(5_000);
    await relay.restart(); // killed: no close frame
    await until(
      "both back",
      () => listening.live.length === 1 && sending.live.length === 1,
      15_000,
    );
    const event = sealSignal(client, server.publicKey, {
      type: "request",
      session: "1".repeat(32),
      source: "tcp://127.0.0.1:22",
    });
    sending.publish(event);
    await until(
      "the event after the restart",
      () => received.events.some((e) => e.id === event.id),
    );
  } finally {
    listening.close();
    sending.close();
  }
});

function sealRequest(from: NostrSecretKey, to: NostrSecretKey, session: string) {
  return sealSignal(from, to.publicKey, { type: "request", session, source: "tcp://127.0.0.1:22" });
}

/** A RelaySetLog that keeps its lines. */
function logLines() {
  const info: string[] = [];
  const debug: string[] = [];
  return {
    info,
    debug,
    log: { info: (line: string) => info.push(line), debug: (line: string) => debug.push(line) },
  };
}

Deno.test("NostrRelaySet: a relay that drops the first REQ of each connection is asked again", async () => {
  await using relay = await startNostrRelay({ dropFirstReq: true, logEvents: true });
  const { server, client, filterFor } = peers();
  const received = inbox();
  const lines = logLines();
  const listening = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(server, client),
    onEvent: received.onEvent,
    log: lines.log,
  });
  const sending = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(client, server),
    onEvent: () => {},
  });
  try {
    const started = performance.now();
    await listening.ready(EOSE_TIMEOUT_MS + 5_000);
    const waited = performance.now() - started;
    assert.ok(waited >= EOSE_TIMEOUT_MS - 500, `live after ${waited} ms: the first REQ was lost`);
    assert.ok(relay.logLines().some((line) => line.startsWith("dropped REQ ")));
    assert.ok(lines.debug.some((line) => /no EOSE within 4 s, asking again/.test(line)));
    await sending.ready(EOSE_TIMEOUT_MS + 5_000);
    const event = sealRequest(client, server, "2".repeat(32));
    assert.equal(sending.publish(event), 1);
    await until("the event", () => received.events.some((e) => e.id === event.id));
  } finally {
    listening.close();
    sending.close();
  }
});

/** `event`/`rate-limited` lines of the relay's log for `author`, with their times. */
function relayLog(relay: { logLines(): string[] }, author: NostrSecretKey) {
  return relay.logLines().map((line) => line.split(" ")).filter((f) =>
    f[1] === author.publicKey.hex
  )
    .map((f) => ({ what: f[0], id: f[f.length - 2], atMs: Number(f[f.length - 1]) }));
}

Deno.test("NostrRelaySet: a relay that answers rate-limited is said once, paused, then sent the newest copy", async () => {
  await using relay = await startNostrRelay({
    rateLimit: { events: 2, windowMs: 3_000 },
    logEvents: true,
  });
  const { server, client, filterFor } = peers();
  const received = inbox();
  const lines = logLines();
  const listening = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(server, client),
    onEvent: received.onEvent,
  });
  const sending = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(client, server),
    onEvent: () => {},
    log: lines.log,
  });
  try {
    await listening.ready(5_000);
    await sending.ready(5_000);
    // Five at once: the relay takes two and refuses three.
    for (let i = 0; i < 5; i++) sending.publish(sealRequest(client, server, `${i}`.repeat(32)));
    await until(
      "the refusals",
      () => relayLog(relay, client).filter((e) => e.what === "rate-limited").length === 3,
    );
    await until("the pause", () => lines.info.length > 0);
    // Three copies of one message while paused: only the newest is kept.
    const copies = [];
    for (let i = 0; i < 3; i++) {
      copies.push(sealRequest(client, server, "a".repeat(32)));
      assert.equal(sending.publish(copies[i], "a:request"), 0, "held, not sent");
      await new Promise((r) => setTimeout(r, 300));
    }
    const newest = copies.at(-1)!;
    await until("the held copy", () => received.events.some((e) => e.id === newest.id), 10_000);
    const log = relayLog(relay, client);
    const lastRefusal = log.filter((e) => e.what === "rate-limited").at(-1)!;
    const after = log.filter((e) => e.what === "event" && e.atMs > lastRefusal.atMs);
    assert.deepEqual(after.map((e) => e.id), [newest.id], "one copy after the pause, the newest");
    assert.ok(
      after[0].atMs - lastRefusal.atMs >= RATE_LIMIT_FIRST_PAUSE_MS - 300,
      `sent ${after[0].atMs - lastRefusal.atMs} ms after the refusal`,
    );
    assert.equal(lines.info.length, 1, lines.info.join("\n"));
    assert.match(
      lines.info[0],
      new RegExp(
        `^nostr relay ${relay.url} rate-limits us \\(rate-limited: .+\\): sending it nothing for 5 s`,
      ),
    );
  } finally {
    listening.close();
    sending.close();
  }
});

Deno.test("NostrRelaySet: a NOTICE and a CLOSED for a rate limit: said once, subscription asked again after the pause", async () => {
  await using relay = await startNostrRelay({
    rateLimit: { events: 1, windowMs: 2_000, answer: "closed" },
    logEvents: true,
  });
  const { server, client, filterFor } = peers();
  const lines = logLines();
  const sending = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(client, server),
    onEvent: () => {},
    log: lines.log,
  });
  try {
    await sending.ready(5_000);
    for (let i = 0; i < 3; i++) sending.publish(sealRequest(client, server, `${i}`.repeat(32)));
    await until("the subscription closed", () => sending.live.length === 0);
    const closedAt = performance.now();
    await until(
      "the subscription back",
      () => sending.live.length === 1,
      RATE_LIMIT_FIRST_PAUSE_MS + 5_000,
    );
    const waited = performance.now() - closedAt;
    assert.ok(waited >= RATE_LIMIT_FIRST_PAUSE_MS - 500, `asked again after ${waited} ms`);
    assert.equal(lines.info.length, 1, lines.info.join("\n"));
    assert.match(lines.info[0], /rate-limits us/);
  } finally {
    sending.close();
  }
});

/**
 * A relay of the test's own on loopback that answers every REQ with `answer`
 * (nothing: a relay that loses subscriptions), counting connections and REQs.
 */
function scriptedRelay(answer: (subscription: string) => unknown[] | undefined) {
  const reqs: { connection: number; atMs: number }[] = [];
  let connections = 0;
  const sockets = new Set<WebSocket>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const connection = ++connections;
    sockets.add(socket);
    socket.onclose = () => sockets.delete(socket);
    socket.onmessage = (message) => {
      const [type, subscription] = JSON.parse(message.data);
      if (type !== "REQ") return;
      reqs.push({ connection, atMs: performance.now() });
      const reply = answer(subscription);
      if (reply) socket.send(JSON.stringify(reply));
    };
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    reqs,
    connections: () => connections,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.close();
      await server.shutdown();
    },
  };
}

Deno.test({
  name:
    "NostrRelaySet: a relay that never answers the REQ is asked 3 times, 4 s apart, then reconnected",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using relay = scriptedRelay(() => undefined);
    const { server, client, filterFor } = peers();
    const lines = logLines();
    const set = NostrRelaySet.open({
      urls: [relay.url],
      filter: filterFor(server, client),
      onEvent: () => {},
      log: lines.log,
    });
    try {
      await until(
        "a second connection",
        () => relay.connections() >= 2,
        3 * EOSE_TIMEOUT_MS + 5_000,
      );
      const first = relay.reqs.filter((r) => r.connection === 1);
      assert.equal(first.length, MAX_REQ_ATTEMPTS);
      for (let i = 1; i < first.length; i++) {
        const gap = first[i].atMs - first[i - 1].atMs;
        assert.ok(gap >= EOSE_TIMEOUT_MS - 100 && gap < EOSE_TIMEOUT_MS + 1_000, `gap ${gap} ms`);
      }
      assert.ok(lines.debug.some((line) => /subscription not answered, reconnecting/.test(line)));
      assert.deepEqual(lines.info, [], "REQs asked again are for -v");
    } finally {
      set.close();
    }
  },
});

Deno.test({
  name:
    "NostrRelaySet: a relay that closes our subscription is asked again, waits growing, said once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using relay = scriptedRelay((id) => ["CLOSED", id, "restricted: members only"]);
    const { server, client, filterFor } = peers();
    const lines = logLines();
    const set = NostrRelaySet.open({
      urls: [relay.url],
      filter: filterFor(server, client),
      onEvent: () => {},
      log: lines.log,
    });
    try {
      await until("four REQs", () => relay.reqs.length >= 4, 15_000);
      const gaps = relay.reqs.slice(1, 4).map((r, i) => r.atMs - relay.reqs[i].atMs);
      // 1 s, 2 s, 4 s: not a loop hammering the relay.
      for (const [i, expected] of [1_000, 2_000, 4_000].entries()) {
        assert.ok(gaps[i] >= expected - 100 && gaps[i] < expected + 1_000, `gaps ${gaps}`);
      }
      assert.equal(relay.connections(), 1, "asked again on the same connection");
      assert.equal(lines.info.length, 1, lines.info.join("\n"));
      assert.match(
        lines.info[0],
        /^nostr relay ws:\/\/127\.0\.0\.1:\d+ closed our subscription \(restricted: members only\): asking again in 1 s$/,
      );
      await assert.rejects(set.ready(100), /subscription closed: restricted: members only/);
    } finally {
      set.close();
    }
  },
});

Deno.test("NostrRelaySet: events held for a rate-limiting relay: the newest 16, none older than 20 s", async () => {
  await using relay = await startNostrRelay({
    rateLimit: { events: 1, windowMs: 1_000 },
    logEvents: true,
  });
  const { server, client, filterFor } = peers();
  const lines = logLines();
  let skewMs = 0;
  const sending = NostrRelaySet.open({
    urls: [relay.url],
    filter: filterFor(client, server),
    onEvent: () => {},
    log: lines.log,
    now: () => Date.now() + skewMs,
  });
  const session = (i: number) => i.toString(16).padStart(32, "0");
  const seen = () =>
    new Set(relayLog(relay, client).filter((e) => e.what === "event").map((e) => e.id));
  try {
    await sending.ready(5_000);
    sending.publish(sealRequest(client, server, session(1000)));
    sending.publish(sealRequest(client, server, session(1001)));
    await until("the pause", () => lines.info.length === 1);
    // Twenty distinct messages while paused: the oldest four are dropped.
    const held = Array.from({ length: 20 }, (_, i) => sealRequest(client, server, session(i)));
    for (const event of held) assert.equal(sending.publish(event), 0);
    await until("the held events", () => held.slice(4).every((e) => seen().has(e.id)), 10_000);
    assert.ok(held.slice(0, 4).every((e) => !seen().has(e.id)), "the four oldest were dropped");
    // The relay refused most of them: paused again. One event held now, then
    // the clock jumps 25 s: at the pause's end it is too old to send.
    await until("the next pause", () => /sending it nothing/.test(lines.debug.at(-1) ?? ""));
    const pauseS = Number(/for (\d+) s/.exec(lines.debug.at(-1)!)![1]);
    const stale = sealRequest(client, server, session(2000));
    assert.equal(sending.publish(stale), 0);
    skewMs = 25_000;
    await new Promise((r) => setTimeout(r, pauseS * 1000 + 1_000));
    assert.ok(!seen().has(stale.id), "an event held over 20 s is not sent");
    const fresh = sealRequest(client, server, session(2001));
    assert.equal(sending.publish(fresh), 1, "the pause is over");
    await until("the fresh event", () => seen().has(fresh.id));
  } finally {
    sending.close();
  }
});
