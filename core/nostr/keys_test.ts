import assert from "node:assert/strict";
import { NostrKeyError, NostrPublicKey, NostrSecretKey } from "./keys.ts";

Deno.test("nostr keys: nsec and hex parse to the same key, npub and hex likewise", () => {
  const key = NostrSecretKey.generate();
  assert.match(key.nsec, /^nsec1[02-9ac-hj-np-z]{58}$/);
  assert.match(key.publicKey.npub, /^npub1[02-9ac-hj-np-z]{58}$/);
  assert.equal(NostrSecretKey.parse(key.nsec).hex, key.hex);
  assert.equal(NostrSecretKey.parse(` ${key.hex.toUpperCase()}\n`).hex, key.hex);
  assert.equal(NostrPublicKey.parse(key.publicKey.npub).hex, key.publicKey.hex);
  assert.equal(NostrPublicKey.parse(key.publicKey.hex).npub, key.publicKey.npub);
});

Deno.test("nostr keys: known vector (NIP-19)", () => {
  // NIP-19's own example pair.
  const npub = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg";
  assert.equal(
    NostrPublicKey.parse(npub).hex,
    "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e",
  );
  const nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
  assert.equal(
    NostrSecretKey.parse(nsec).hex,
    "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa",
  );
});

Deno.test("nostr keys: each wrong key is refused with what is wrong", () => {
  const key = NostrSecretKey.generate();
  const npub = key.publicKey.npub;
  // A changed last character breaks the bech32 checksum; "q" when it was "q" would not.
  const badNpub = npub.slice(0, -1) + (npub.endsWith("q") ? "p" : "q");
  const cases: [() => unknown, RegExp][] = [
    [() => NostrPublicKey.parse(key.nsec), /secret key \(nsec\); give the peer's public key/],
    [() => NostrSecretKey.parse(key.publicKey.npub), /public key \(npub\); the secret key is/],
    [() => NostrPublicKey.parse(badNpub), /not a valid npub/],
    [() => NostrSecretKey.parse(key.nsec.slice(0, -2)), /not a valid nsec/],
    [() => NostrPublicKey.parse("hello"), /expected an npub1… key or 64 hex digits/],
    [() => NostrSecretKey.parse("0".repeat(64)), /not a valid secp256k1 secret key/],
    [() => NostrSecretKey.parse("f".repeat(64)), /not a valid secp256k1 secret key/],
    [() => NostrSecretKey.parse("abc"), /expected an nsec1… key or 64 hex digits/],
  ];
  for (const [parse, message] of cases) {
    assert.throws(parse, (e) => e instanceof NostrKeyError && message.test(e.message));
  }
});
