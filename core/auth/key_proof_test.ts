import assert from "node:assert/strict";
import { AuthorizedKeys } from "./authorized_keys.ts";
import { ClientKey } from "./client_key.ts";
import { KeyChallenge, keyProofMessage, proveKeyPossession } from "./key_proof.ts";

const SERVER = new Uint8Array(32).fill(1);
const alice = ClientKey.generate();
const keys = new AuthorizedKeys([{ key: alice.publicKey, comment: "alice" }]);

Deno.test("key proof: the signed message is the domain string, the nonce, the server's key", () => {
  const nonce = new Uint8Array(32).fill(2);
  const message = keyProofMessage(nonce, SERVER);
  const domain = new TextEncoder().encode("tunnel client-key proof v1\0");
  assert.deepEqual(message.subarray(0, domain.length), domain);
  assert.deepEqual(message.subarray(domain.length, domain.length + 32), nonce);
  assert.deepEqual(message.subarray(domain.length + 32), SERVER);
  assert.throws(() => keyProofMessage(new Uint8Array(31), SERVER), RangeError);
  assert.throws(() => keyProofMessage(nonce, new Uint8Array(33)), RangeError);
});

Deno.test("key proof: a listed key's proof of this nonce for this server is accepted once", () => {
  const challenge = new KeyChallenge(alice.publicKey.bytes, SERVER);
  const proof = proveKeyPossession(alice, challenge.nonce, SERVER);
  assert.equal(challenge.verify(proof, keys)?.comment, "alice");
  // The same challenge never accepts a second answer, even the same good one.
  assert.equal(challenge.verify(proof, keys), undefined);
});

Deno.test("key proof: nonces are fresh; a proof for another nonce or server is refused", () => {
  const first = new KeyChallenge(alice.publicKey.bytes, SERVER);
  const second = new KeyChallenge(alice.publicKey.bytes, SERVER);
  assert.notDeepEqual(first.nonce, second.nonce);
  assert.equal(second.verify(proveKeyPossession(alice, first.nonce, SERVER), keys), undefined);
  const third = new KeyChallenge(alice.publicKey.bytes, SERVER);
  const otherServer = new Uint8Array(32).fill(9);
  assert.equal(third.verify(proveKeyPossession(alice, third.nonce, otherServer), keys), undefined);
});

Deno.test("key proof: an unlisted key, a forged or malformed signature all get undefined", () => {
  const mallory = ClientKey.generate();
  const unlisted = new KeyChallenge(mallory.publicKey.bytes, SERVER);
  assert.equal(
    unlisted.verify(proveKeyPossession(mallory, unlisted.nonce, SERVER), keys),
    undefined,
  );
  const forged = new KeyChallenge(alice.publicKey.bytes, SERVER);
  assert.equal(forged.verify(proveKeyPossession(mallory, forged.nonce, SERVER), keys), undefined);
  for (const signature of [new Uint8Array(0), new Uint8Array(63), new Uint8Array(64)]) {
    const challenge = new KeyChallenge(alice.publicKey.bytes, SERVER);
    assert.equal(challenge.verify(signature, keys), undefined);
  }
  // A "public key" that is no point of the curve: refused, never thrown.
  const offCurve = new KeyChallenge(new Uint8Array(32).fill(0xff), SERVER);
  assert.equal(offCurve.verify(new Uint8Array(64), keys), undefined);
});

Deno.test("key proof: the nonce comes from the given source of randomness", () => {
  const challenge = new KeyChallenge(alice.publicKey.bytes, SERVER, (bytes) => bytes.fill(7));
  assert.deepEqual(challenge.nonce, new Uint8Array(32).fill(7));
});
