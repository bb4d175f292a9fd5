import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBencode } from "./bencode.ts";
import {
  checkMutableItem,
  immutableTarget,
  MAX_SALT_BYTES,
  MAX_VALUE_BYTES,
  type MutableItem,
  mutableSignable,
  mutableTarget,
  signMutableItem,
} from "./mutable_item.ts";
import { toHex } from "./node_id.ts";

const encoder = new TextEncoder();
const hex = (text: string) => Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));

// BEP 44's test vectors: v "Hello World!", seq 1.
const VECTOR_KEY = hex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548");
const VECTOR_SIG = hex(
  "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff" +
    "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
);
const HELLO = encoder.encode("Hello World!");

Deno.test("BEP 44 test vector 1: signable bytes, signature and target", () => {
  const signable = mutableSignable(1n, encodeBencode(HELLO));
  assert.equal(new TextDecoder().decode(signable), "3:seqi1e1:v12:Hello World!");
  const item: MutableItem = { publicKey: VECTOR_KEY, seq: 1n, value: HELLO, signature: VECTOR_SIG };
  assert.equal(checkMutableItem(item), undefined);
  assert.equal(toHex(mutableTarget(VECTOR_KEY)), "4a533d47ec9c7d95b1ad75f576cffc641853b750");
  // A different seq or value: the signature no longer matches.
  assert.equal(checkMutableItem({ ...item, seq: 2n })?.code, 206);
  assert.equal(checkMutableItem({ ...item, value: encoder.encode("Hello World?") })?.code, 206);
});

Deno.test("BEP 44 test vectors 2 and 3: salted bytes, target and signature; immutable target", () => {
  const salt = encoder.encode("foobar");
  assert.equal(
    new TextDecoder().decode(mutableSignable(1n, encodeBencode(HELLO), salt)),
    "4:salt6:foobar3:seqi1e1:v12:Hello World!",
  );
  assert.equal(toHex(mutableTarget(VECTOR_KEY, salt)), "411eba73b6f087ca51a3795d9c8c938d365e32c1");
  // Test vector 2: the salted item's signature.
  const saltedSignature = hex(
    "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d" +
      "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
  );
  const salted: MutableItem = {
    publicKey: VECTOR_KEY,
    seq: 1n,
    value: HELLO,
    signature: saltedSignature,
    salt,
  };
  assert.equal(checkMutableItem(salted), undefined);
  assert.equal(checkMutableItem({ ...salted, salt: encoder.encode("foobaz") })?.code, 206);
  assert.equal(
    toHex(immutableTarget(encodeBencode(HELLO))),
    "e5f96f6f38320f0f33959cb4d3d656452117aadb",
  );
  // An empty salt is no salt.
  assert.deepEqual(
    mutableSignable(1n, encodeBencode(HELLO), new Uint8Array()),
    mutableSignable(1n, encodeBencode(HELLO)),
  );
});

Deno.test("pkarr's signed bytes are BEP 44's: 3:seqi<micros>e1:v<len>:<packet>", () => {
  const secret = ed25519.utils.randomSecretKey();
  const packet = new Uint8Array(300).map((_, i) => i);
  const seq = 1_733_000_000_000_000n;
  const prefix = encoder.encode(`3:seqi${seq}e1:v300:`);
  assert.deepEqual(
    mutableSignable(seq, encodeBencode(packet)),
    new Uint8Array([...prefix, ...packet]),
  );
  const item = signMutableItem(secret, seq, packet);
  assert.ok(ed25519.verify(item.signature, new Uint8Array([...prefix, ...packet]), item.publicKey));
  assert.equal(checkMutableItem(item), undefined);
});

Deno.test("BEP 44 limits: v at most 1000 bytes bencoded (205), salt at most 64 (207)", () => {
  const secret = ed25519.utils.randomSecretKey();
  // 996 bytes + "996:" = 1000 bytes bencoded: the largest accepted.
  assert.equal(checkMutableItem(signMutableItem(secret, 1n, new Uint8Array(996))), undefined);
  assert.equal(encodeBencode(new Uint8Array(997)).length, MAX_VALUE_BYTES + 1);
  assert.equal(checkMutableItem(signMutableItem(secret, 1n, new Uint8Array(997)))?.code, 205);
  const salt = new Uint8Array(MAX_SALT_BYTES);
  assert.equal(checkMutableItem(signMutableItem(secret, 1n, HELLO, salt)), undefined);
  assert.equal(checkMutableItem(signMutableItem(secret, 1n, HELLO, new Uint8Array(65)))?.code, 207);
});

Deno.test("malformed items: key, signature and seq sizes; small-order keys", () => {
  const item = signMutableItem(ed25519.utils.randomSecretKey(), 1n, HELLO);
  assert.equal(checkMutableItem({ ...item, publicKey: item.publicKey.subarray(1) })?.code, 203);
  assert.equal(checkMutableItem({ ...item, signature: item.signature.subarray(1) })?.code, 203);
  assert.equal(checkMutableItem({ ...item, seq: -1n })?.code, 203);
  assert.equal(checkMutableItem({ ...item, seq: 1n << 63n })?.code, 203);
  // The identity point as key with an all-zero-ish signature: refused, not "verified".
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const forged = new Uint8Array(64);
  forged[0] = 1;
  assert.equal(
    checkMutableItem({ publicKey: identity, seq: 1n, value: HELLO, signature: forged })?.code,
    206,
  );
  assert.equal(checkMutableItem({ ...item, publicKey: new Uint8Array(32).fill(0xff) })?.code, 206);
});
