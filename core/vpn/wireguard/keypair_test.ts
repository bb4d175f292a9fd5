import assert from "node:assert/strict";
import { ipv4Packet } from "./_wireguard_fixtures.ts";
import { Keypair } from "./keypair.ts";
import { decodeTransportHeader } from "./messages.ts";

function pair() {
  const k1 = crypto.getRandomValues(new Uint8Array(32));
  const k2 = crypto.getRandomValues(new Uint8Array(32));
  const a = new Keypair({
    sendKey: k1,
    receiveKey: k2,
    localIndex: 1,
    remoteIndex: 2,
    isInitiator: true,
  }, 0);
  const b = new Keypair({
    sendKey: k2.slice(),
    receiveKey: k1.slice(),
    localIndex: 2,
    remoteIndex: 1,
    isInitiator: false,
  }, 0);
  return { a, b };
}

function open(keypair: Keypair, message: Uint8Array) {
  return keypair.open(message, decodeTransportHeader(message).counter);
}

Deno.test("Keypair.seal() pads to 16 (not past the MTU) and open() returns the padded payload", () => {
  const { a, b } = pair();
  const packet = ipv4Packet(100, 1);
  const message = a.seal(packet)!;
  assert.equal(message.length, 16 + 112 + 16);
  assert.deepEqual(decodeTransportHeader(message), { receiver: 2, counter: 0 });
  const plaintext = open(b, message) as Uint8Array;
  assert.deepEqual(plaintext.subarray(0, 100), packet);
  assert.deepEqual(plaintext.subarray(100), new Uint8Array(12));
  assert.equal(
    a.seal(ipv4Packet(1420), 1420)!.length,
    16 + 1420 + 16,
    "1420 is not padded to 1424",
  );
  assert.equal(a.seal(new Uint8Array(0))!.length, 32, "keepalive");
  assert.equal(a.sendCounter, 3);
});

Deno.test("Keypair.open() refuses copies, forgeries, and anything after zero()", () => {
  const { a, b } = pair();
  const first = a.seal(ipv4Packet(60))!;
  const second = a.seal(ipv4Packet(60))!;
  assert.ok(open(b, second) instanceof Uint8Array);
  assert.ok(open(b, first) instanceof Uint8Array, "reordering within the window is fine");
  assert.equal(open(b, first), "replayed");
  const forged = a.seal(ipv4Packet(60))!;
  forged[40] ^= 1;
  assert.equal(open(b, forged), "unauthenticated");
  // A forged counter must not move the window: the genuine message with that counter still opens.
  const genuine = a.seal(ipv4Packet(60))!;
  const moved = genuine.slice();
  moved[8] ^= 0x80;
  assert.equal(open(b, moved), "unauthenticated");
  assert.ok(open(b, genuine) instanceof Uint8Array);
  b.zero();
  assert.equal(open(b, a.seal(ipv4Packet(60))!), "unauthenticated");
  a.zero();
  assert.equal(a.seal(ipv4Packet(60)), undefined);
});
