import assert from "node:assert/strict";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { NoiseError, NoiseIKpsk2 } from "./noise_ikpsk2.ts";
import { aeadOpen, aeadSeal, generatePrivateKey, hash, publicKeyOf } from "./noise_primitives.ts";
import { CACOPHONY_IKPSK2 as V, WIREGUARD_INITIAL_CHAINING_KEY } from "./_test_vectors.ts";
import { WIREGUARD_NOISE } from "./handshake.ts";

function sides() {
  const protocol = { name: V.protocolName, prologue: hexToBytes(V.prologue) };
  const psk = hexToBytes(V.psk);
  const initiator = new NoiseIKpsk2(protocol, {
    initiator: true,
    localStaticPrivate: hexToBytes(V.initStatic),
    remoteStaticPublic: hexToBytes(V.initRemoteStatic),
    presharedKey: psk,
    generateEphemeral: () => hexToBytes(V.initEphemeral),
  });
  const responder = new NoiseIKpsk2(protocol, {
    initiator: false,
    localStaticPrivate: hexToBytes(V.respStatic),
    presharedKey: psk,
    generateEphemeral: () => hexToBytes(V.respEphemeral),
  });
  return { initiator, responder };
}

Deno.test("NoiseIKpsk2 reproduces cacophony's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector", () => {
  const { initiator, responder } = sides();
  const [m0, m1, ...transport] = V.messages;

  const one = initiator.writeMessage1(hexToBytes(m0.payload));
  const wire0 = bytesToHex(
    new Uint8Array([...one.ephemeral, ...one.encryptedStatic, ...one.encryptedPayload]),
  );
  assert.equal(wire0, m0.ciphertext);
  const c0 = hexToBytes(m0.ciphertext);
  const payload0 = responder.readMessage1({
    ephemeral: c0.subarray(0, 32),
    encryptedStatic: c0.subarray(32, 80),
    encryptedPayload: c0.subarray(80),
  });
  assert.equal(bytesToHex(payload0), m0.payload);
  assert.equal(
    bytesToHex(responder.remoteStatic!),
    bytesToHex(publicKeyOf(hexToBytes(V.initStatic))),
  );

  const two = responder.writeMessage2(hexToBytes(m1.payload));
  assert.equal(
    bytesToHex(new Uint8Array([...two.ephemeral, ...two.encryptedPayload])),
    m1.ciphertext,
  );
  const c1 = hexToBytes(m1.ciphertext);
  const payload1 = initiator.readMessage2({
    ephemeral: c1.subarray(0, 32),
    encryptedPayload: c1.subarray(32),
  });
  assert.equal(bytesToHex(payload1), m1.payload);

  assert.equal(bytesToHex(initiator.handshakeHash), V.handshakeHash);
  assert.equal(bytesToHex(responder.handshakeHash), V.handshakeHash);

  // Transport messages: initiator and responder take turns, each counting its own nonces.
  const i = initiator.split();
  const r = responder.split();
  transport.forEach((message, index) => {
    const fromInitiator = index % 2 === 0;
    const nonce = Math.floor(index / 2);
    const key = fromInitiator ? i.sendKey : r.sendKey;
    const sealed = aeadSeal(key, nonce, hexToBytes(message.payload), new Uint8Array(0));
    assert.equal(bytesToHex(sealed), message.ciphertext, `transport message ${index}`);
    const opened = aeadOpen(
      fromInitiator ? r.receiveKey : i.receiveKey,
      nonce,
      sealed,
      new Uint8Array(0),
    );
    assert.equal(bytesToHex(opened!), message.payload);
  });
});

Deno.test("NoiseIKpsk2: readMessage1() rejects a flipped bit and a wrong psk fails message 2", () => {
  const { initiator, responder } = sides();
  const one = initiator.writeMessage1(new Uint8Array(12));
  const tampered = one.encryptedPayload.slice();
  tampered[3] ^= 1;
  assert.throws(
    () => responder.readMessage1({ ...one, encryptedPayload: tampered }),
    NoiseError,
  );

  const responderKey = generatePrivateKey();
  const protocol = WIREGUARD_NOISE;
  const a = new NoiseIKpsk2(protocol, {
    initiator: true,
    localStaticPrivate: generatePrivateKey(),
    remoteStaticPublic: publicKeyOf(responderKey),
    presharedKey: new Uint8Array(32),
  });
  const b = new NoiseIKpsk2(protocol, {
    initiator: false,
    localStaticPrivate: responderKey,
    presharedKey: new Uint8Array(32).fill(1),
  });
  b.readMessage1(a.writeMessage1(new Uint8Array(12)));
  assert.throws(() => a.readMessage2(b.writeMessage2(new Uint8Array(0))), NoiseError);
});

Deno.test("WireGuard's construction string hashes to the published initial chaining key", () => {
  const construction = new TextEncoder().encode(WIREGUARD_NOISE.name);
  assert.equal(bytesToHex(hash(construction)), WIREGUARD_INITIAL_CHAINING_KEY);
  assert.equal(
    new TextDecoder().decode(WIREGUARD_NOISE.prologue),
    "WireGuard v1 zx2c4 Jason@zx2c4.com",
  );
});
