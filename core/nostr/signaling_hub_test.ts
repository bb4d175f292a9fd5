import assert from "node:assert/strict";
import { acceptOverIce, dialOverIce } from "../connect/mod.ts";
import { SecretKey } from "../identity/mod.ts";
import { NostrSecretKey } from "./keys.ts";
import { newSessionId, type NostrEvent, sealSignal } from "./signal_event.ts";
import { NoOfferError, SignalingHub } from "./signaling_hub.ts";
import { REPUBLISH_FIRST_MS } from "./republish_schedule.ts";

const LOOPBACK_ONLY = { stunServers: [], hostAddresses: ["127.0.0.1"] };
const ALPN = "nostr-hub-test/1";

/** Two hubs wired back to back through an in-memory "relay" that records what crossed. */
function hubPair() {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const crossed: NostrEvent[] = [];
  const hubs: { server?: SignalingHub; client?: SignalingHub } = {};
  hubs.server = new SignalingHub({
    secret: server,
    peer: client.publicKey,
    bus: { publish: (e) => (crossed.push(e), hubs.client!.receive(e)) },
    // Started long ago: requests made in its first second are tested on their own.
    startedMs: 0,
  });
  hubs.client = new SignalingHub({
    secret: client,
    peer: server.publicKey,
    bus: { publish: (e) => (crossed.push(e), hubs.server!.receive(e)) },
  });
  return { server: hubs.server, client: hubs.client, crossed, keys: { server, client } };
}

Deno.test({
  name: "SignalingHub: request, offer, answer; ICE and pinned QUIC as manual mode does",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { server, client, crossed } = hubPair();
    const key = SecretKey.generate();
    try {
      const { channel } = client.request("tcp://127.0.0.1:22");
      const serving = (async () => {
        const request = await server.nextRequest();
        assert.equal(request?.source, "tcp://127.0.0.1:22");
        return acceptOverIce({
          channel: server.accept(request!.session),
          ...LOOPBACK_ONLY,
          alpn: ALPN,
          secretKey: key,
          firstSpeaker: "acceptor",
        });
      })();
      const [dialed, accepted] = await Promise.all([
        dialOverIce({ channel, ...LOOPBACK_ONLY, alpn: ALPN, firstSpeaker: "acceptor" }),
        serving,
      ]);
      assert.deepEqual(
        crossed.map((e) => e.kind),
        [24242, 24242, 24242],
        "request, offer, answer: each once (nothing was left unanswered for 2 s)",
      );
      dialed.close();
      accepted.close();
      await Promise.all([dialed.closed, accepted.closed]);
    } finally {
      server.close();
      client.close();
    }
  },
});

Deno.test("SignalingHub: a refusal reaches the client's channel; replays and strangers are dropped", async () => {
  const { server, client, crossed, keys } = hubPair();
  try {
    const { channel } = client.request("tcp://10.0.0.1:22");
    const request = await server.nextRequest();
    // The same request again (a relay replaying it) is not a second session.
    server.receive(crossed[0]);
    server.refuse(request!.session, "server is at its session limit (2)");
    await assert.rejects(channel.receive(), /the server refused: server is at its session limit/);
    // A stranger's request is not a session either.
    const stranger = new SignalingHub({
      secret: NostrSecretKey.generate(),
      peer: keys.server.publicKey,
      bus: { publish: (e) => server.receive(e) },
    });
    stranger.request("tcp://127.0.0.1:22");
    stranger.close();
    const next = await Promise.race([
      server.nextRequest(),
      new Promise((r) => setTimeout(() => r("nothing"), 200)),
    ]);
    assert.equal(next, "nothing");
  } finally {
    server.close();
    client.close();
  }
});

Deno.test("SignalingHub: a request made before the hub started is ignored, a copy made since is taken", async () => {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const lines: string[] = [];
  // openSignal checks an event's age against the clock: events are sealed
  // around now, and the hub "started" half a second from now.
  const now = Date.now();
  const hub = new SignalingHub({
    secret: server,
    peer: client.publicKey,
    bus: { publish: () => {} },
    log: { debug: (line) => lines.push(line) },
    startedMs: now + 500,
  });
  try {
    const message = { type: "request" as const, session: newSessionId(), source: "udp://x:53" };
    const sealedAt = (ms: number) => sealSignal(client, server.publicKey, message, ms);
    // Made 7 s before a restart, replayed after it.
    hub.receive(sealedAt(now - 7_000));
    // Made in the second the hub started, before it (created_at has whole seconds).
    hub.receive(sealedAt(now));
    const next = hub.nextRequest();
    const nothing = new Promise((r) => setTimeout(() => r("nothing"), 200));
    assert.equal(await Promise.race([next, nothing]), "nothing");
    assert.equal(lines.filter((l) => /from before this server started/.test(l)).length, 2);
    // The client's next copy of the same request, 2 s later, starts the session.
    hub.receive(sealedAt(now + 2_000));
    assert.equal((await next)?.session, message.session);
  } finally {
    hub.close();
  }
});

Deno.test("SignalingHub: a server session whose client never answers the offer ends", async () => {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const hub = new SignalingHub({
    secret: server,
    peer: client.publicKey,
    bus: { publish: () => {} },
    answerTimeoutMs: 100,
  });
  try {
    const channel = hub.accept(newSessionId());
    await assert.rejects(channel.receive(), /the client did not answer within 0.1 s/);
  } finally {
    hub.close();
  }
});

Deno.test("SignalingHub: a client whose request gets no offer gives up and stops publishing it", async () => {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const published: NostrEvent[] = [];
  const hub = new SignalingHub({
    secret: client,
    peer: server.publicKey,
    bus: { publish: (event) => published.push(event) },
    offerTimeoutMs: 300,
  });
  try {
    const { channel } = hub.request("tcp://127.0.0.1:22");
    const started = performance.now();
    const error = await channel.receive().then(() => undefined, (e) => e);
    assert.ok(error instanceof NoOfferError, String(error));
    assert.equal(error.timeoutMs, 300);
    assert.match(error.message, /no offer from the server within 0.3 s/);
    assert.ok(performance.now() - started < 2_000);
    assert.equal(published.length, 1);
    // Past the time of the first republished copy: none went out.
    await new Promise((r) => setTimeout(r, REPUBLISH_FIRST_MS + 300));
    assert.equal(published.length, 1, "no copy of a request given up");
  } finally {
    hub.close();
  }
});

Deno.test("SignalingHub: an offer whose answer does not come stops being published", async () => {
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  const published: NostrEvent[] = [];
  const hub = new SignalingHub({
    secret: server,
    peer: client.publicKey,
    bus: { publish: (event) => published.push(event) },
    answerTimeoutMs: 300,
  });
  try {
    const channel = hub.accept(newSessionId());
    await channel.send({
      ice: { credentials: { ufrag: "abcd", pwd: "0123456789abcdefghijkl" }, candidates: [] },
      serverId: SecretKey.generate().endpointId,
    });
    await assert.rejects(channel.receive(), /the client did not answer within 0.3 s/);
    assert.equal(published.length, 1);
    await new Promise((r) => setTimeout(r, REPUBLISH_FIRST_MS + 300));
    assert.equal(published.length, 1, "no copy of an offer given up");
  } finally {
    hub.close();
  }
});
