import assert from "node:assert/strict";
import { exchange, FakeClock, ipv4Packet, peerPair, seqOf, types } from "./_wireguard_fixtures.ts";
import { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
import {
  KEEPALIVE_TIMEOUT,
  REJECT_AFTER_TIME,
  REKEY_AFTER_TIME,
  REKEY_ATTEMPT_TIME,
  REKEY_TIMEOUT,
  REKEY_TIMEOUT_JITTER_MAX,
  ZERO_KEYS_AFTER,
} from "./timers.ts";
import { WireGuardPeer } from "./wireguard_peer.ts";
import { KEEPALIVE_SIZE } from "./messages.ts";

const RETRY = REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX;

/** A handshake started by `a`, completed, and confirmed to `b`. */
function connected(options = {}) {
  const pair = peerPair(new FakeClock(), options);
  const first = pair.a.send([ipv4Packet(100, 1)]);
  const { atTo } = exchange(pair.a, pair.b, first);
  assert.deepEqual(atTo.map(seqOf), [1]);
  return pair;
}

Deno.test("WireGuardPeer: two peers complete a handshake and exchange packets both ways", () => {
  const { a, b, clock } = peerPair();
  const initiation = a.send([ipv4Packet(100, 1), ipv4Packet(1420, 2)]);
  assert.deepEqual(types(initiation), [1]);
  assert.equal(initiation[0].length, 148);
  const { reply: response } = b.receive(initiation[0]);
  assert.deepEqual(types(response), [2]);
  assert.equal(response[0].length, 92);
  // The queued packets leave with the new session.
  const { reply: data, packets } = a.receive(response[0]);
  assert.equal(packets.length, 0);
  assert.deepEqual(types(data), [4, 4]);
  assert.equal(data[0].length, 16 + 112 + 16, "100 bytes padded to 112");
  const atB = data.flatMap((message) => b.receive(message).packets);
  assert.deepEqual(atB.map(seqOf), [1, 2]);
  assert.deepEqual(atB[1], ipv4Packet(1420, 2));
  assert.equal(atB[0].length, 100, "padding removed");

  const back = b.send([ipv4Packet(60, 3)]);
  assert.deepEqual(types(back), [4]);
  assert.deepEqual(a.receive(back[0]).packets.map(seqOf), [3]);
  for (const peer of [a, b]) {
    assert.equal(peer.stats.handshakes, 1);
    assert.equal(peer.stats.lastHandshakeAt, clock.time);
  }
  assert.equal(a.stats.packetsSent, 2);
  assert.equal(b.stats.packetsReceived, 2);
});

Deno.test("WireGuardPeer: the responder sends with a new session only after the initiator used it", () => {
  const { a, b } = peerPair();
  const [initiation] = a.send([]).concat(a.send([ipv4Packet(80, 1)]));
  const { reply: [response] } = b.receive(initiation);
  // B has no confirmed session: its packet waits (B also tries its own handshake).
  const early = b.send([ipv4Packet(80, 2)]);
  assert.ok(!types(early).includes(4), "no transport message before confirmation");
  const { reply: fromA } = a.receive(response);
  assert.deepEqual(types(fromA), [4]);
  const result = b.receive(fromA[0]);
  assert.deepEqual(result.packets.map(seqOf), [1]);
  assert.deepEqual(types(result.reply), [4], "the queued packet leaves once confirmed");
  assert.deepEqual(a.receive(result.reply[0]).packets.map(seqOf), [2]);
});

Deno.test("WireGuardPeer: a handshake with nothing queued is confirmed by a keepalive", () => {
  const { a, b, clock } = peerPair(new FakeClock(), { persistentKeepaliveSeconds: 25 });
  const initiation = a.tick();
  assert.deepEqual(types(initiation), [1], "persistent keepalive brings the session up");
  const { reply: [response] } = b.receive(initiation[0]);
  const { reply: [keepalive] } = a.receive(response);
  assert.equal(keepalive.length, KEEPALIVE_SIZE);
  const { packets } = b.receive(keepalive);
  assert.equal(packets.length, 0);
  assert.equal(b.stats.handshakes, 1);
  // Then every 25 s of silence, a keepalive.
  clock.advance(25_000);
  const later = a.tick();
  assert.deepEqual(later.map((message) => message.length), [KEEPALIVE_SIZE]);
});

Deno.test("WireGuardPeer: a replayed transport message is dropped", () => {
  const { a, b } = connected();
  const [message] = a.send([ipv4Packet(200, 7)]);
  assert.equal(b.receive(message).packets.length, 1);
  assert.equal(b.receive(message).packets.length, 0);
  assert.equal(b.stats.dropped.replayed, 1);
});

Deno.test("WireGuardPeer: a replayed initiation is refused", () => {
  const { a, b, clock } = peerPair();
  const [initiation] = a.send([ipv4Packet(100)]);
  assert.equal(b.receive(initiation).reply.length, 1);
  clock.advance(1_000);
  assert.equal(b.receive(initiation).reply.length, 0);
  assert.equal(b.stats.dropped.replayed, 1);
});

Deno.test("WireGuardPeer: an initiator with another static key is refused", () => {
  const { b, bKey } = peerPair();
  const stranger = new WireGuardPeer({
    privateKey: generatePrivateKey(),
    peerPublicKey: publicKeyOf(bKey),
  });
  const [initiation] = stranger.send([ipv4Packet(100)]);
  assert.deepEqual(b.receive(initiation).reply, []);
  assert.equal(b.stats.dropped.refusedHandshakes, 1);
  assert.equal(b.stats.handshakes, 0);
});

Deno.test("WireGuardPeer: a different preshared key fails the handshake", () => {
  const clock = new FakeClock();
  const aKey = generatePrivateKey();
  const bKey = generatePrivateKey();
  const a = new WireGuardPeer({
    privateKey: aKey,
    peerPublicKey: publicKeyOf(bKey),
    presharedKey: new Uint8Array(32).fill(1),
    now: clock.now,
  });
  const b = new WireGuardPeer({
    privateKey: bKey,
    peerPublicKey: publicKeyOf(aKey),
    presharedKey: new Uint8Array(32).fill(2),
    now: clock.now,
  });
  exchange(a, b, a.send([ipv4Packet(100)]));
  assert.equal(a.stats.handshakes, 0);
  assert.equal(a.stats.dropped.unauthenticated, 1, "the response does not authenticate");
});

Deno.test("WireGuardPeer: a lost initiation is retransmitted after RekeyTimeout, until RekeyAttemptTime", () => {
  const { a, b, clock } = peerPair();
  assert.deepEqual(types(a.send([ipv4Packet(100, 1)])), [1]); // lost
  assert.deepEqual(a.tick(), []);
  const deadline = a.nextDeadline()!;
  assert.ok(deadline - clock.time >= REKEY_TIMEOUT && deadline - clock.time <= RETRY);
  clock.time = deadline;
  const retry = a.tick();
  assert.deepEqual(types(retry), [1]);
  // The retry completes the handshake and the queued packet arrives.
  assert.deepEqual(exchange(a, b, retry).atTo.map(seqOf), [1]);

  // Against silence: retries every ~5 s, then the queue is dropped.
  const { a: lonely, clock: lonelyClock } = peerPair();
  lonely.send([ipv4Packet(100, 1), ipv4Packet(100, 2)]);
  const start = lonelyClock.time;
  while (lonely.stats.dropped.queued === 0) {
    lonelyClock.time = lonely.nextDeadline()!;
    lonely.tick();
    assert.ok(lonelyClock.time - start < REKEY_ATTEMPT_TIME + 4 * RETRY, "gives up in time");
  }
  assert.equal(lonely.stats.dropped.queued, 2);
  assert.ok(lonelyClock.time - start >= REKEY_ATTEMPT_TIME);
  assert.ok(lonely.stats.initiationsSent >= 18 && lonely.stats.initiationsSent <= 21);
});

Deno.test("WireGuardPeer: the initiator rekeys after RekeyAfterTime; the old session still receives", () => {
  const { a, b, clock } = connected();
  clock.advance(REKEY_AFTER_TIME + 1);
  // B sends with the old session just before A's new one completes.
  const [late] = b.send([ipv4Packet(100, 5)]);
  const out = a.send([ipv4Packet(100, 2)]);
  assert.deepEqual(types(out), [4, 1], "data with the old session, then an initiation");
  const { atTo } = exchange(a, b, out);
  assert.deepEqual(atTo.map(seqOf), [2]);
  assert.equal(a.stats.handshakes, 2);
  assert.equal(b.stats.handshakes, 2);
  assert.deepEqual(a.receive(late).packets.map(seqOf), [5], "previous session");
  // Both now use the new session.
  assert.deepEqual(exchange(b, a, b.send([ipv4Packet(100, 6)])).atTo.map(seqOf), [6]);
});

Deno.test("WireGuardPeer: sessions expire after RejectAfterTime and keys are zeroed later", () => {
  const { a, b, clock } = connected();
  const [old] = a.send([ipv4Packet(100, 1)]);
  clock.advance(REJECT_AFTER_TIME);
  assert.equal(b.receive(old).packets.length, 0);
  assert.equal(b.stats.dropped.expired, 1);
  assert.deepEqual(types(a.send([ipv4Packet(100, 2)])), [1], "queued behind a new handshake");
  assert.equal(a.hasSession, false);
  // Nothing answers: after 3 x RejectAfterTime the keys are gone.
  const start = clock.time;
  while (clock.time - start < ZERO_KEYS_AFTER) {
    clock.time = Math.min(a.nextDeadline() ?? Infinity, start + ZERO_KEYS_AFTER);
    a.tick();
  }
  clock.advance(1);
  a.tick();
  assert.equal(a.nextDeadline(), undefined, "no timer left");
});

Deno.test("WireGuardPeer: a keepalive answers received data after KeepaliveTimeout", () => {
  const { a, b, clock } = connected();
  const [data] = a.send([ipv4Packet(100, 2)]);
  b.receive(data);
  clock.advance(KEEPALIVE_TIMEOUT - 1);
  assert.deepEqual(b.tick(), []);
  clock.advance(1);
  const keepalive = b.tick();
  assert.deepEqual(keepalive.map((message) => message.length), [KEEPALIVE_SIZE]);
  const result = a.receive(keepalive[0]);
  assert.deepEqual(result.packets, []);
  assert.deepEqual(result.reply, []);
});

Deno.test("WireGuardPeer: data without an answer for 15 s starts a new handshake", () => {
  const { a, clock } = connected();
  a.send([ipv4Packet(100, 2)]); // lost, and the peer goes quiet
  clock.advance(KEEPALIVE_TIMEOUT + RETRY);
  assert.deepEqual(types(a.tick()), [1]);
});

Deno.test("WireGuardPeer: under load the responder answers with a cookie reply and then requires mac2", () => {
  const { a, b, bKey, clock } = peerPair();
  const flood = () => {
    for (let i = 0; i < 10; i++) {
      const stranger = new WireGuardPeer({
        privateKey: generatePrivateKey(),
        peerPublicKey: publicKeyOf(bKey),
      });
      b.receive(stranger.send([ipv4Packet(40)])[0]);
    }
  };
  flood();
  assert.ok(b.stats.cookieRepliesSent > 0, "the flood itself got cookie replies");
  const repliesBefore = b.stats.cookieRepliesSent;
  const refusedBefore = b.stats.dropped.refusedHandshakes;
  const [initiation] = a.send([ipv4Packet(100, 1)]);
  const { reply } = b.receive(initiation);
  assert.deepEqual(types(reply), [3], "a cookie reply, no response");
  assert.equal(reply[0].length, 64);
  assert.equal(b.stats.cookieRepliesSent, repliesBefore + 1);
  assert.equal(b.stats.dropped.refusedHandshakes, refusedBefore, "no handshake work under load");
  assert.deepEqual(a.receive(reply[0]).reply, []);
  assert.equal(a.stats.cookieRepliesReceived, 1);

  // Still under load when A retries: its mac2 now lets it through.
  clock.advance(RETRY);
  flood();
  const retry = a.tick();
  assert.deepEqual(types(retry), [1]);
  const { atTo } = exchange(a, b, retry);
  assert.deepEqual(atTo.map(seqOf), [1]);
  assert.equal(a.stats.handshakes, 1);
});

Deno.test("WireGuardPeer: receive() never throws on garbage, truncation or flipped bits", () => {
  const { a, b } = peerPair();
  const samples: Uint8Array[] = [];
  const [initiation] = a.send([ipv4Packet(100, 1)]);
  const { reply: [response] } = b.receive(initiation);
  const { reply: [data] } = a.receive(response);
  samples.push(initiation, response, data);
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 300; i++) {
    const base = samples[i % samples.length];
    const copy = base.slice(0, i % 4 === 0 ? Math.floor(random() * base.length) : base.length);
    for (let flips = 0; flips < 1 + (i % 3) && copy.length > 0; flips++) {
      copy[Math.floor(random() * copy.length)] ^= 1 << Math.floor(random() * 8);
    }
    for (const peer of [a, b]) {
      const result = peer.receive(copy);
      assert.ok(Array.isArray(result.reply) && Array.isArray(result.packets));
    }
  }
  for (const junk of [new Uint8Array(0), new Uint8Array(3), new Uint8Array(2000).fill(4)]) {
    assert.deepEqual(b.receive(junk).packets, []);
  }
  // The genuine session still works afterwards.
  assert.deepEqual(b.receive(data).packets.map(seqOf), [1]);
});

Deno.test("WireGuardPeer: initiations that cross still end in a working session", () => {
  const { a, b, clock } = peerPair();
  const toB = a.send([ipv4Packet(100, 1)]);
  const toA = b.send([ipv4Packet(100, 2)]);
  const atA: number[] = [];
  const atB: number[] = [];
  const start = clock.time;
  while (atA.length === 0 || atB.length === 0) {
    assert.ok(clock.time - start < 60_000, `no session after 60 s: ${atA} / ${atB}`);
    if (toA.length === 0 && toB.length === 0) {
      clock.time = Math.min(a.nextDeadline() ?? Infinity, b.nextDeadline() ?? Infinity);
      toB.push(...a.tick());
      toA.push(...b.tick());
      continue;
    }
    for (const message of toB.splice(0)) {
      const result = b.receive(message);
      toA.push(...result.reply);
      atB.push(...result.packets.map(seqOf));
    }
    for (const message of toA.splice(0)) {
      const result = a.receive(message);
      toB.push(...result.reply);
      atA.push(...result.packets.map(seqOf));
    }
  }
  assert.deepEqual(atB, [1]);
  assert.deepEqual(atA, [2]);
});
