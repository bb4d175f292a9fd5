import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { verifyStrict } from "./strict_signature.ts";

Deno.test("verifyStrict(): a good signature; a changed message, key or signature; no point; a small-order key", () => {
  const secret = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secret);
  const message = new TextEncoder().encode("3:seqi1e1:v5:hello");
  const signature = ed25519.sign(message, secret);
  assert.ok(verifyStrict(signature, message, publicKey));
  assert.ok(!verifyStrict(signature, message.with(0, 0x34), publicKey));
  assert.ok(!verifyStrict(signature.with(40, signature[40] ^ 1), message, publicKey));
  assert.ok(
    !verifyStrict(signature, message, ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
  );
  // Not a point at all (y out of range), and the identity (small order): false, never a throw.
  assert.ok(!verifyStrict(signature, message, new Uint8Array(32).fill(0xff)));
  const identity = new Uint8Array(32);
  identity[0] = 1;
  assert.ok(!verifyStrict(signature, message, identity));
  assert.ok(!verifyStrict(new Uint8Array(64), message, publicKey));
});
