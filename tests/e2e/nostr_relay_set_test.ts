// NostrRelaySet against a real Nostr relay (tests/harness/nostr_relay.ts): one
// dead relay does not hold up signaling through another; with none reachable
// the error names every relay tried; a relay that drops its connections
// without a close frame is reconnected and resubscribed by itself.
import assert from "node:assert/strict";
import {
  type NostrEvent,
  NostrRelaySet,
  NostrSecretKey,
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
