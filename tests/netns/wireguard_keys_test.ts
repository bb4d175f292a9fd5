import assert from "node:assert/strict";
import { findTool, run } from "./command.ts";
import { decodeWireGuardKey, wireGuardKeyPair, wireGuardPublicKey } from "./wireguard_keys.ts";

const hexToBase64 = (hex: string) =>
  btoa(String.fromCharCode(...hex.match(/../g)!.map((h) => parseInt(h, 16))));

Deno.test("wireGuardPublicKey() matches the X25519 vector of RFC 7748 (section 6.1)", () => {
  const alicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
  const alicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
  assert.equal(wireGuardPublicKey(hexToBase64(alicePrivate)), hexToBase64(alicePublic));
});

Deno.test("wireGuardKeyPair() makes distinct, clamped keys whose public half matches", () => {
  const pairs = Array.from({ length: 8 }, () => wireGuardKeyPair());
  assert.equal(new Set(pairs.map((p) => p.privateKey)).size, pairs.length);
  for (const { privateKey, publicKey } of pairs) {
    const secret = decodeWireGuardKey(privateKey);
    assert.equal(secret[0] & 7, 0);
    assert.equal(secret[31] & 0xc0, 0x40);
    assert.equal(wireGuardPublicKey(privateKey), publicKey);
  }
});

Deno.test({
  name: "wireGuardKeyPair() agrees with `wg pubkey`",
  ignore: !findTool("wg"),
  fn: async () => {
    const { privateKey, publicKey } = wireGuardKeyPair();
    const result = await run([findTool("wg")!, "pubkey"], { stdin: `${privateKey}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), publicKey);
  },
});

Deno.test("decodeWireGuardKey() rejects truncated, padded, flipped and non-canonical text", () => {
  const { privateKey } = wireGuardKeyPair();
  const bad = [
    "",
    privateKey.slice(0, -1),
    privateKey.slice(1),
    `${privateKey}=`,
    `A${privateKey}`,
    privateKey.replace("=", "A"),
    `${privateKey.slice(0, 10)}-${privateKey.slice(11)}`,
    // Low bits of the 43rd character set: decodes to the same bytes, but is not canonical.
    `${privateKey.slice(0, 42)}B=`,
  ];
  for (const text of bad) {
    assert.throws(() => decodeWireGuardKey(text), /^TypeError: Cannot read WireGuard key/, text);
  }
  // Every single-character change that stays in the alphabet still decodes to 32 bytes.
  for (let i = 0; i < 42; i++) {
    const flipped = privateKey.slice(0, i) + (privateKey[i] === "A" ? "B" : "A") +
      privateKey.slice(i + 1);
    assert.equal(decodeWireGuardKey(flipped).length, 32);
  }
});
