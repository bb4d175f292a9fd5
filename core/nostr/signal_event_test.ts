import assert from "node:assert/strict";
import { NostrSecretKey } from "./keys.ts";
import {
  MAX_EVENT_AGE_S,
  newSessionId,
  type NostrEvent,
  openSignal,
  ReplayGuard,
  sealSignal,
  SIGNAL_KIND,
  type SignalMessage,
  transferId,
} from "./signal_event.ts";

const server = NostrSecretKey.generate();
const client = NostrSecretKey.generate();
const stranger = NostrSecretKey.generate();
const now = 1_780_000_000_000;

Deno.test("signals: the transfer id is the same from both sides", () => {
  assert.equal(
    transferId(server.publicKey, client.publicKey),
    transferId(client.publicKey, server.publicKey),
  );
  assert.match(transferId(server.publicKey, client.publicKey), /^[0-9a-f]{64}$/);
});

Deno.test("signals: sealed by one peer, opened by the other, content hidden from relays", () => {
  const session = newSessionId();
  const messages: SignalMessage[] = [
    { type: "request", session, source: "tcp://127.0.0.1:22" },
    { type: "offer", session, ice: "tunnel-path 1\nufrag abcd", serverId: "a".repeat(52) },
    { type: "answer", session, ice: "tunnel-path 1\nufrag efgh" },
    { type: "refused", session, reason: "server is at its session limit (2)" },
  ];
  for (const message of messages) {
    const event = sealSignal(client, server.publicKey, message, now);
    assert.equal(event.kind, SIGNAL_KIND);
    assert.deepEqual(event.tags, [
      ["p", server.publicKey.hex],
      ["t", transferId(client.publicKey, server.publicKey)],
    ]);
    assert.ok(!event.content.includes("tcp://") && !event.content.includes(session));
    assert.deepEqual(openSignal(server, client.publicKey, event, now + 1000), message);
  }
});

Deno.test("signals: strangers, tampering, staleness and garbage are ignored with a reason", () => {
  const message: SignalMessage = { type: "request", session: newSessionId(), source: "tcp://h:1" };
  const good = sealSignal(client, server.publicKey, message, now);
  const open = (event: NostrEvent, at = now) => openSignal(server, client.publicKey, event, at);
  // A stranger signs a well-formed event aimed at us.
  const forged = sealSignal(stranger, server.publicKey, message, now);
  assert.deepEqual(open(forged), { ignored: "not ours" }); // its transfer id differs
  assert.deepEqual(open({ ...forged, tags: good.tags }), { ignored: "another author" });
  // The claimed author is our peer, but the signature is not theirs.
  assert.deepEqual(open({ ...forged, tags: good.tags, pubkey: good.pubkey }), {
    ignored: "bad signature",
  });
  assert.deepEqual(open({ ...good, content: good.content.slice(0, -4) + "AAAA" }), {
    ignored: "bad signature",
  });
  assert.deepEqual(open(good, now + (MAX_EVENT_AGE_S + 2) * 1000), { ignored: "stale" });
  assert.deepEqual(open(good, now - (MAX_EVENT_AGE_S + 2) * 1000), { ignored: "stale" });
  assert.deepEqual(open({ ...good, kind: 1 }), { ignored: "not ours" });
  // A Blossom authorisation event of the same kind: other tags.
  assert.deepEqual(open({ ...good, tags: [["t", "upload"], ["x", "00"]] }), {
    ignored: "not ours",
  });
  // Random junk in every field: never a throw.
  for (let i = 0; i < 200; i++) {
    const junk = {
      ...good,
      tags: i % 2 ? good.tags : [[String(Math.random())]],
      content: crypto.randomUUID().repeat(i % 7),
      created_at: i % 3 ? good.created_at : Number.NaN,
    } as NostrEvent;
    const result = open(junk);
    assert.ok("ignored" in result);
  }
  assert.deepEqual(open({ ...good, content: "x".repeat(20_000) }), { ignored: "too large" });
});

Deno.test("signals: a message of the wrong shape is malformed, even when signed by the peer", () => {
  const bad = sealSignal(client, server.publicKey, {
    type: "request",
    session: "not-hex",
    source: "tcp://h:1",
  } as SignalMessage, now);
  assert.deepEqual(openSignal(server, client.publicKey, bad, now), { ignored: "malformed" });
});

Deno.test("ReplayGuard: each (session, type) once; forgotten after twice the age bound", () => {
  const guard = new ReplayGuard();
  const request: SignalMessage = { type: "request", session: newSessionId(), source: "x" };
  assert.equal(guard.firstTime(request, now), true);
  assert.equal(guard.firstTime(request, now + 1000), false);
  assert.equal(guard.firstTime({ ...request, type: "refused", reason: "" }, now), true);
  assert.equal(guard.firstTime(request, now + 2 * MAX_EVENT_AGE_S * 1000 + 1), true);
  const small = new ReplayGuard(2);
  for (let i = 0; i < 5; i++) {
    assert.equal(small.firstTime({ ...request, session: newSessionId() }, now), true);
  }
});
