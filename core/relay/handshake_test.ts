import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { blake3 } from "@noble/hashes/blake3.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { SecretKey } from "../identity/mod.ts";
import { decodeRelayFrame, encodeRelayFrame } from "./frames.ts";
import {
  CHALLENGE_LENGTH,
  challengeMessage,
  newChallenge,
  signChallenge,
  verifyClientAuth,
} from "./handshake.ts";

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const KEY = new SecretKey(new Uint8Array(32).fill(42));
// The order of edwards25519's prime-order subgroup.
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const bytesToNumberLE = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const numberToBytesLE = (n: bigint, length: number) =>
  Uint8Array.from({ length }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

Deno.test("blake3 with a context is BLAKE3's derive_key mode (official test vectors)", () => {
  // From BLAKE3's test_vectors.json: input bytes i % 251, derive_key, first 32 bytes.
  const context = new TextEncoder().encode("BLAKE3 2019-12-27 16:29:52 test vectors context");
  const vectors: [number, string][] = [
    [0, "2cc39783c223154fea8dfb7c1b1660f2ac2dcbd1c1de8277b0b0dd39b7e50d7d"],
    [1, "b3e2e340a117a499c6cf2398a19ee0d29cca2bb7404c73063382693bf66cb06c"],
    [64, "a5c4a7053fa86b64746d4bb688d06ad1f02a18fce9afd3e818fefaa7126bf73e"],
  ];
  for (const [length, hex] of vectors) {
    const input = Uint8Array.from({ length }, (_, i) => i % 251);
    assert.equal(toHex(blake3(input, { context, dkLen: 32 })), hex);
  }
});

Deno.test("challengeMessage() matches the reference BLAKE3 derive_key", () => {
  // Computed once with the official Rust BLAKE3 (as WebAssembly) for context
  // "iroh-relay handshake v1 challenge signature"; iroh's source has no vector.
  const vectors: [Uint8Array, string][] = [
    [new Uint8Array(16), "8105e7bd9963194e6d6d80225a3f1b071da3b6e65edcd12531e16233f33de9d6"],
    [
      Uint8Array.from({ length: 16 }, (_, i) => i),
      "b7b16e505d2cb5dbaf494800092c3b05a6c45d8d3fd4f1b888c6a77240b876c0",
    ],
    [
      new Uint8Array(16).fill(42),
      "e17b7ed62b4b8eaeb8ae5b9469cd03527585c4517a3cc02022bf729e1619c9fb",
    ],
  ];
  for (const [challenge, hex] of vectors) assert.equal(toHex(challengeMessage(challenge)), hex);
});

Deno.test("challengeMessage() refuses a challenge that is not 16 bytes", () => {
  assert.throws(() => challengeMessage(new Uint8Array(15)), RangeError);
  assert.throws(() => challengeMessage(new Uint8Array(32)), RangeError);
});

Deno.test("signChallenge() gives the client-auth frame iroh would send", () => {
  // Ed25519 is deterministic: the signature was checked against OpenSSL's Ed25519.
  const frame = signChallenge(KEY, new Uint8Array(16).fill(42));
  assert.equal(frame.type, "client-auth");
  assert.equal(
    toHex(encodeRelayFrame(frame, 2)),
    "01" +
      "197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61" +
      "40" +
      "c830b3a8001dcef6fe3c9109ed652af17d52babab42a304158f04b81e31af7d3" +
      "d638992a6be6cf58eda6d7e86dd0afa36957a1c3409a1e788bf62fa06854cd01",
  );
});

Deno.test("newChallenge() gives 16 fresh random bytes", () => {
  const a = newChallenge();
  assert.equal(a.length, CHALLENGE_LENGTH);
  assert.notDeepEqual(a, newChallenge());
});

Deno.test("verifyClientAuth() accepts the key's signature, through the codec", () => {
  const challenge = newChallenge();
  const key = SecretKey.generate();
  const sent = encodeRelayFrame(signChallenge(key, challenge), 1);
  const received = decodeRelayFrame(sent, 1);
  assert.equal(received.type, "client-auth");
  if (received.type !== "client-auth") return;
  assert.deepEqual(received.publicKey, key.endpointId.bytes);
  assert.equal(verifyClientAuth(received, challenge), true);
});

Deno.test("verifyClientAuth() rejects another key, another challenge and altered bytes", () => {
  const challenge = newChallenge();
  const frame = signChallenge(KEY, challenge);
  const other = SecretKey.generate().endpointId.bytes;
  assert.equal(verifyClientAuth({ ...frame, publicKey: other }, challenge), false);
  const altered = challenge.slice();
  altered[5] ^= 0x10;
  assert.equal(verifyClientAuth(frame, altered), false);
  assert.equal(verifyClientAuth(frame, newChallenge()), false);
  for (let bit = 0; bit < 64 * 8; bit += 37) {
    const signature = frame.signature.slice();
    signature[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(verifyClientAuth({ ...frame, signature }, challenge), false, `bit ${bit}`);
  }
  // A signature over the raw challenge (not the derived key) is not an answer.
  const raw = { ...frame, signature: KEY.sign(challenge) };
  assert.equal(verifyClientAuth(raw, challenge), false);
});

Deno.test("verifyClientAuth() is false, never a throw, for malformed input", () => {
  const challenge = newChallenge();
  const frame = signChallenge(KEY, challenge);
  assert.equal(verifyClientAuth({ ...frame, publicKey: new Uint8Array(31) }, challenge), false);
  assert.equal(verifyClientAuth({ ...frame, signature: new Uint8Array(63) }, challenge), false);
  assert.equal(verifyClientAuth(frame, new Uint8Array(15)), false);
  // Not a curve point (y = 2 has no x on edwards25519).
  const notAPoint = new Uint8Array(32);
  notAPoint[0] = 2;
  assert.equal(verifyClientAuth({ ...frame, publicKey: notAPoint }, challenge), false);
  assert.equal(
    verifyClientAuth({ publicKey: null, signature: null } as unknown as typeof frame, challenge),
    false,
  );
});

Deno.test("verifyClientAuth() refuses small-order keys and R, as iroh's verify_strict", () => {
  const challenge = newChallenge();
  // The identity point (y = 1) has order 1.
  const identity = new Uint8Array(32);
  identity[0] = 1;
  // With key and R both the identity and s = 0, the cofactored equation holds for any message.
  const forged = new Uint8Array(64);
  forged.set(identity, 0);
  assert.equal(ed25519.verify(forged, challengeMessage(challenge), identity), true);
  assert.equal(verifyClientAuth({ publicKey: identity, signature: forged }, challenge), false);
  // A small-order R with a real key: R = identity, S = k·a (a the secret scalar,
  // k = SHA-512(R || A || M) mod L) satisfies the equation; only the R check refuses it.
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(KEY.seed());
  const message = challengeMessage(challenge);
  const k = bytesToNumberLE(sha512(new Uint8Array([...identity, ...pointBytes, ...message]))) % L;
  const smallR = new Uint8Array(64);
  smallR.set(identity, 0);
  smallR.set(numberToBytesLE((k * scalar) % L, 32), 32);
  assert.equal(ed25519.verify(smallR, message, pointBytes, { zip215: false }), true);
  assert.equal(verifyClientAuth({ publicKey: pointBytes, signature: smallR }, challenge), false);
});
