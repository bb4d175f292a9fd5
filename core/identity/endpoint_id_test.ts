import assert from "node:assert/strict";
import { decodeBase32, encodeBase32 } from "./base32.ts";
import { EndpointId, SecretKey } from "./mod.ts";

// RFC 8032, section 7.1, TEST 1.
const SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const PUBLIC_BASE32 = "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena";
const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));

Deno.test("SecretKey derives the RFC 8032 public key and prints it as iroh does", () => {
  const key = new SecretKey(hex(SEED));
  assert.equal(key.endpointId.toHex(), PUBLIC);
  assert.equal(key.endpointId.toString(), PUBLIC_BASE32);
  assert.equal(key.endpointId.toString().length, 52);
});

Deno.test("EndpointId.parse() accepts base32 (either case) and hex", () => {
  assert.equal(EndpointId.parse(PUBLIC_BASE32).toHex(), PUBLIC);
  assert.equal(EndpointId.parse(PUBLIC_BASE32.toUpperCase()).toHex(), PUBLIC);
  assert.equal(EndpointId.parse(PUBLIC).toString(), PUBLIC_BASE32);
});

Deno.test("EndpointId.parse() rejects wrong lengths, characters and trailing bits", () => {
  for (
    const bad of [
      "",
      "abc",
      PUBLIC_BASE32.slice(1),
      PUBLIC_BASE32 + "a",
      "1" + PUBLIC_BASE32.slice(1),
    ]
  ) {
    assert.throws(() => EndpointId.parse(bad), /Invalid EndpointId/);
  }
  // The last character carries 4 padding bits; "b" sets one of them.
  assert.throws(() => EndpointId.parse(PUBLIC_BASE32.slice(0, 51) + "b"), /trailing bits/);
});

Deno.test("base32 round-trips every length up to 40 bytes", () => {
  for (let n = 0; n <= 40; n++) {
    const bytes = crypto.getRandomValues(new Uint8Array(n));
    assert.deepEqual(decodeBase32(encodeBase32(bytes)), bytes);
  }
});

Deno.test("SecretKey.parse() round-trips and rejects bad text", () => {
  const key = SecretKey.generate();
  assert.ok(SecretKey.parse(key.toBase64() + "\n").endpointId.equals(key.endpointId));
  assert.throws(() => SecretKey.parse("not base64!"), /Invalid secret key/);
  assert.throws(() => SecretKey.parse(btoa("short")), /expected 32 bytes, got 5/);
});
