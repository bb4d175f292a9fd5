// nostr mode against a real Nostr relay on loopback (tests/harness/nostr_relay.ts):
// a transfer through the tunnel; two clients at once and a third refused by
// --max-sessions 2 with the reason printed; one of two relays dead from the start;
// requests replayed after a restart, or never followed by an answer, hold no slot
// (and the offer stops being published); a client whose server never answers
// gives up within its bound; a relay that drops the first REQ, or rate-limits,
// still carries a session.
import assert from "node:assert/strict";
import {
  ANSWER_TIMEOUT_MS,
  newSessionId,
  type NostrEvent,
  NostrRelaySet,
  NostrSecretKey,
  OFFER_TIMEOUT_MS,
  openSignal,
  RATE_LIMIT_FIRST_PAUSE_MS,
  REPUBLISH_MAX_COPIES,
  sealSignal,
  SIGNAL_KIND,
} from "../../core/nostr/mod.ts";
import { delay } from "../harness/_timeout.ts";
import { haveProgram } from "./_fixtures.ts";
import {
  ManagedProcess,
  runCommand,
  startNostrRelay,
  startSshd,
  startTcpEchoServer,
  transferPayload,
  tunnelCommandArgs,
} from "../harness/mod.ts";

const LOOPBACK_ICE = ["--host-candidate", "127.0.0.1", "--no-stun"];
const DEAD_RELAY = "ws://127.0.0.1:1";

function startServer(
  server: NostrSecretKey,
  client: NostrSecretKey,
  relays: string[],
  extra: string[] = [],
) {
  return ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "server",
      "nostr",
      "--nsec",
      server.nsec,
      "--peer-npub",
      client.publicKey.npub,
      "--allowed-tcp",
      "127.0.0.0/8",
      ...relays.flatMap((url) => ["--relay", url]),
      ...LOOPBACK_ICE,
      ...extra,
    ]),
  });
}

function startClient(
  client: NostrSecretKey,
  server: NostrSecretKey,
  relays: string[],
  port: number,
) {
  return ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "client",
      "nostr",
      "--nsec",
      client.nsec,
      "--peer-npub",
      server.publicKey.npub,
      "-s",
      `tcp://127.0.0.1:${port}`,
      "-t",
      "127.0.0.1:0",
      ...relays.flatMap((url) => ["--relay", url]),
      ...LOOPBACK_ICE,
    ]),
  });
}

/** What the relay's log (`logEvents`) says of `author`'s events: `event` or `rate-limited`, and when. */
function relayLog(relay: { logLines(): string[] }, author: NostrSecretKey) {
  return relay.logLines().map((line) => line.split(" "))
    .filter((fields) => fields[1] === author.publicKey.hex)
    .map((fields) => ({ what: fields[0], atMs: Number(fields.at(-1)) }));
}

/** The events `author` published that the relay received. */
function eventsBy(relay: { logLines(): string[] }, author: NostrSecretKey) {
  return relayLog(relay, author).filter((entry) => entry.what === "event");
}

async function readyPort(proc: ManagedProcess): Promise<number> {
  const line = await proc.waitForLine(/^Tunnel ready: 127\.0\.0\.1:\d+/, {
    stream: "stdout",
    timeoutMs: 30_000,
  });
  return Number(/:(\d+) ->/.exec(line)![1]);
}

Deno.test("nostr mode: a transfer, two sessions at once, a third refused by --max-sessions 2", async () => {
  await using relay = await startNostrRelay();
  await using echo = startTcpEchoServer();
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  // One relay is dead from the start: signaling goes through the other.
  const relays = [DEAD_RELAY, relay.url];
  await using tunnelServer = startServer(server, client, relays, ["--max-sessions", "2"]);
  await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
  await using first = startClient(client, server, relays, echo.port);
  await using second = startClient(client, server, relays, echo.port);
  const [a, b] = await Promise.all([readyPort(first), readyPort(second)]);
  for (const port of [a, b]) {
    const { sent, received } = await transferPayload(port, 1 << 20);
    assert.equal(received.sha256, sent.sha256);
  }
  await using third = startClient(client, server, relays, echo.port);
  const refusal = await third.waitForLine(/^Error: /, { stream: "stderr", timeoutMs: 30_000 });
  assert.match(refusal, /server is at its session limit \(2\)/);
  assert.equal((await third.process.status).code, 1);
});

const isRoot =
  new TextDecoder().decode(new Deno.Command("id", { args: ["-u"] }).outputSync().stdout)
    .trim() === "0";
const canRunSshd = haveProgram("sshd") && haveProgram("ssh") && isRoot;

Deno.test({
  name: "nostr mode: SSH through the tunnel runs a remote command",
  ignore: !canRunSshd,
  async fn() {
    await using relay = await startNostrRelay();
    await using sshd = await startSshd();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    await using tunnelServer = startServer(server, client, [relay.url]);
    await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    await using tunnelClient = startClient(client, server, [relay.url], sshd.port);
    const port = await readyPort(tunnelClient);
    const remote = await runCommand("ssh", {
      args: [...sshd.sshArgs(port), "echo", "through-nostr"],
      timeoutMs: 30_000,
    });
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout.trim(), "through-nostr");
  },
});

/**
 * A Nostr client of the test's own on `url` (the project's relay set, a plain
 * NIP-01 client): records every event `author` publishes, and publishes events
 * as anyone who has them could, a hostile relay or an eavesdropper.
 */
async function openEavesdropper(url: string, author: NostrSecretKey) {
  const recorded: NostrEvent[] = [];
  const relays = NostrRelaySet.open({
    urls: [url],
    filter: { kinds: [SIGNAL_KIND], authors: [author.publicKey.hex] },
    onEvent: (event) => {
      if (!recorded.some((e) => e.id === event.id)) recorded.push(event);
    },
  });
  await relays.ready(10_000);
  return {
    recorded,
    publish: (event: NostrEvent) => assert.equal(relays.publish(event), 1),
    [Symbol.dispose]: () => relays.close(),
  };
}

Deno.test({
  name: "nostr mode: requests replayed after the server restarted start no session",
  // The eavesdropper's WebSocket closes without waiting for the relay's close frame.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // A relay takes each event id once, so the replay goes through a relay that
    // has not seen it (anyone can publish a signed event anywhere; a hostile
    // relay would just send it again): the restarted server and the fresh
    // client use that one.
    await using seen = await startNostrRelay();
    await using other = await startNostrRelay();
    await using echo = startTcpEchoServer();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    using eavesdropper = await openEavesdropper(seen.url, client);
    using replayer = await openEavesdropper(other.url, client);
    const limit = ["--max-sessions", "1", "-v"];
    const before = startServer(server, client, [seen.url], limit);
    await before.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    const first = startClient(client, server, [seen.url], echo.port);
    await readyPort(first);
    await first.stop();
    await before.stop();
    const requests = eavesdropper.recorded.filter((event) => {
      const message = openSignal(server, client.publicKey, event);
      return "type" in message && message.type === "request";
    });
    assert.ok(requests.length >= 1, "the client's request was seen on the relay");

    await using after = startServer(server, client, [other.url], limit);
    await after.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    // Seconds old, well within the 30 s an event is accepted for: only the
    // restart tells them from a live client's.
    for (const event of eavesdropper.recorded) replayer.publish(event);
    await after.waitForLine(/ignored: a request from before this server started/, {
      timeoutMs: 10_000,
    });
    await delay(1_000);
    // The only slot is free: a live client gets it at once.
    await using fresh = startClient(client, server, [other.url], echo.port);
    const { sent, received } = await transferPayload(await readyPort(fresh), 1 << 16);
    assert.equal(received.sha256, sent.sha256);
    const sessionLines = after.lines().filter((line) => /^\[session /.test(line));
    assert.ok(
      sessionLines.every((line) => line.startsWith("[session 1]")),
      `one session, the fresh client's:\n${sessionLines.join("\n")}`,
    );
  },
});

Deno.test({
  name: "nostr mode: a request whose client never answers frees its slot",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using relay = await startNostrRelay({ logEvents: true });
    await using echo = startTcpEchoServer();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    using eavesdropper = await openEavesdropper(relay.url, client);
    await using tunnelServer = startServer(server, client, [relay.url], [
      "--max-sessions",
      "1",
      "-v",
    ]);
    await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    // A client that asks once and is gone (crashed, or lost its network). A
    // request made in the second the server started is taken at its next copy,
    // and this one has none: it is made in the next second.
    await delay(1_000);
    eavesdropper.publish(sealSignal(client, server.publicKey, {
      type: "request",
      session: newSessionId(),
      source: `tcp://127.0.0.1:${echo.port}`,
    }));
    await tunnelServer.waitForLine(/^\[session 1\] no connection: the client did not answer/, {
      timeoutMs: ANSWER_TIMEOUT_MS + 10_000,
    });
    // The offer went out at 0, 2, 6 and 14 s, and not after the session was given up.
    const offers = eventsBy(relay, server).length;
    assert.ok(offers >= 1 && offers <= 4, `${offers} copies of the offer in 15 s`);
    await delay(9_000);
    assert.equal(eventsBy(relay, server).length, offers, "no copy after the session was given up");
    await using fresh = startClient(client, server, [relay.url], echo.port);
    const { sent, received } = await transferPayload(await readyPort(fresh), 1 << 16);
    assert.equal(received.sha256, sent.sha256);
  },
});

Deno.test("nostr mode: a client whose server never answers gives up, naming the npub and relays", async () => {
  await using relay = await startNostrRelay({ logEvents: true });
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const relays = [relay.url, DEAD_RELAY];
  const started = performance.now();
  await using lonely = startClient(client, server, relays, 9);
  const status = await Promise.race([
    lonely.process.status,
    delay(OFFER_TIMEOUT_MS + 15_000).then(() => {
      throw new Error("the client is still waiting");
    }),
  ]);
  const elapsed = performance.now() - started;
  assert.equal(status.code, 1);
  assert.ok(elapsed >= OFFER_TIMEOUT_MS, `gave up after ${elapsed} ms`);
  assert.ok(elapsed < OFFER_TIMEOUT_MS + 15_000, `gave up after ${elapsed} ms`);
  const errors = lonely.lines("stderr");
  assert.deepEqual(errors, [
    `Error: No answer from ${server.publicKey.npub} within ${OFFER_TIMEOUT_MS / 1000} s through ${
      relays.join(", ")
    }: check that its server runs with --peer-npub ${client.publicKey.npub} and shares a relay`,
  ]);
  // The request went out on its schedule, at most six copies, then no more.
  const requests = eventsBy(relay, client).length;
  assert.ok(requests >= 2 && requests <= REPUBLISH_MAX_COPIES, `${requests} copies of the request`);
});

Deno.test("nostr mode: a session through a relay that drops the first REQ of every connection", async () => {
  await using relay = await startNostrRelay({ dropFirstReq: true, logEvents: true });
  await using echo = startTcpEchoServer();
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  await using tunnelServer = startServer(server, client, [relay.url]);
  await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
  await using tunnelClient = startClient(client, server, [relay.url], echo.port);
  const { sent, received } = await transferPayload(await readyPort(tunnelClient), 1 << 16);
  assert.equal(received.sha256, sent.sha256);
  const dropped = relay.logLines().filter((line) => line.startsWith("dropped REQ "));
  assert.equal(dropped.length, 2, "each side's first REQ was lost");
});

Deno.test({
  name:
    "nostr mode: a relay that rate-limits the client's key: said once, backed off, and the session still opens",
  // The eavesdropper's WebSocket closes without waiting for the relay's close frame.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // nostream's limit (60 ephemeral events a minute per key), scaled down; the
    // window outlasts a slow start of the client, so its first request is refused.
    await using relay = await startNostrRelay({
      rateLimit: { events: 2, windowMs: 15_000 },
      logEvents: true,
    });
    await using echo = startTcpEchoServer();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    await using tunnelServer = startServer(server, client, [relay.url]);
    await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    // The client's key has spent its allowance (on events for someone else,
    // which the server never sees): its request is refused at first.
    using eavesdropper = await openEavesdropper(relay.url, client);
    const someoneElse = NostrSecretKey.generate().publicKey;
    for (let i = 0; i < 2; i++) {
      eavesdropper.publish(sealSignal(client, someoneElse, {
        type: "request",
        session: newSessionId(),
        source: "tcp://127.0.0.1:9",
      }));
    }
    await using tunnelClient = startClient(client, server, [relay.url], echo.port);
    const { sent, received } = await transferPayload(await readyPort(tunnelClient), 1 << 16);
    assert.equal(received.sha256, sent.sha256);
    const said = tunnelClient.lines().filter((line) => /rate-limits us/.test(line));
    assert.equal(said.length, 1, tunnelClient.lines().join("\n"));
    assert.match(
      said[0],
      new RegExp(
        `^nostr relay ${relay.url} rate-limits us \\(rate-limited: .+\\): sending it nothing for 5 s`,
      ),
    );
    // Backed off: after the first refusal the client sent nothing for the pause.
    const log = relayLog(relay, client);
    const firstRefusal = log.findIndex((entry) => entry.what === "rate-limited");
    assert.ok(firstRefusal >= 0, "the relay refused the client's request");
    const next = log.slice(firstRefusal + 1).find((entry) => entry.what === "event")!;
    assert.ok(
      next.atMs - log[firstRefusal].atMs >= RATE_LIMIT_FIRST_PAUSE_MS - 300,
      `next event ${next.atMs - log[firstRefusal].atMs} ms after the refusal`,
    );
  },
});
