import assert from "node:assert/strict";
import { EndpointId, SecretKey } from "../identity/mod.ts";
import { decodeZ32, encodeZ32, endpointIdFromZ32, endpointIdToZ32 } from "./z32.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));

// iroh-dns/src/endpoint_info.rs, test_from_hickory_lookup: the z32 label of a DNS
// name and the EndpointId it stands for.
const IROH_Z32 = "dgjpkxyn3zyrk3zfads5duwdgbqpkwbjxfj4yt7rezidr3fijccy";
const IROH_HEX = "1992d53c02cdc04566e5c0edb1ce83305cd550297953a047a445ea3264b54b18";
// pkarr/src/types/keys.rs, from_string: a key and its bytes.
const PKARR_Z32 = "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no";
const PKARR_BYTES = [
  1,
  180,
  103,
  163,
  183,
  145,
  58,
  178,
  122,
  4,
  168,
  237,
  242,
  243,
  251,
  7,
  76,
  254,
  14,
  207,
  75,
  171,
  225,
  8,
  214,
  123,
  227,
  133,
  59,
  15,
  38,
  197,
];

Deno.test("encodeZ32() and decodeZ32() match iroh's and pkarr's key vectors", () => {
  assert.equal(encodeZ32(hex(IROH_HEX)), IROH_Z32);
  assert.deepEqual(decodeZ32(IROH_Z32), hex(IROH_HEX));
  assert.equal(encodeZ32(Uint8Array.from(PKARR_BYTES)), PKARR_Z32);
  assert.deepEqual(decodeZ32(PKARR_Z32), Uint8Array.from(PKARR_BYTES));
  assert.equal(endpointIdFromZ32(IROH_Z32).toHex(), IROH_HEX);
  assert.equal(endpointIdToZ32(new EndpointId(hex(IROH_HEX))), IROH_Z32);
});

Deno.test("encodeZ32() is RFC 4648 base32 (as EndpointIds print) with another alphabet", () => {
  const rfc4648 = "abcdefghijklmnopqrstuvwxyz234567";
  const z32 = "ybndrfg8ejkmcpqxot1uwisza345h769";
  for (let i = 0; i < 50; i++) {
    const id = SecretKey.generate().endpointId;
    const translated = [...id.toString()].map((c) => z32[rfc4648.indexOf(c)]).join("");
    assert.equal(endpointIdToZ32(id), translated);
    assert.equal(translated.length, 52);
    assert.ok(endpointIdFromZ32(translated).equals(id));
  }
});

Deno.test("encodeZ32() and decodeZ32() round-trip every length from 0 to 40 bytes", () => {
  for (let length = 0; length <= 40; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const text = encodeZ32(bytes);
    assert.equal(text.length, Math.ceil((length * 8) / 5));
    assert.deepEqual(decodeZ32(text), bytes);
  }
  assert.equal(encodeZ32(new Uint8Array([0xff])), "9h");
  assert.equal(encodeZ32(new Uint8Array(0)), "");
});

Deno.test("decodeZ32() rejects what no encoder writes, naming the problem", () => {
  const cases: [string, RegExp][] = [
    ["9", /1 characters is not a length/],
    ["9hy", /3 characters is not a length/],
    ["9n", /non-zero trailing bits/],
    ["9H", /invalid character "H" at index 1 \(z-base-32 is lowercase\)/],
    ["0h", /invalid character "0" at index 0/],
    ["9l", /invalid character "l" at index 1/],
    ["9 ", /invalid character " " at index 1/],
    ["é9", /invalid character "é" at index 0/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => decodeZ32(text), (e) => e instanceof TypeError && message.test(e.message));
  }
});

Deno.test("endpointIdFromZ32() wants exactly 52 characters", () => {
  assert.throws(() => endpointIdFromZ32(IROH_Z32.slice(1)), /expected 52 characters, got 51/);
  assert.throws(() => endpointIdFromZ32(IROH_Z32 + "y"), /expected 52 characters, got 53/);
  assert.throws(
    () => endpointIdFromZ32(IROH_Z32.toUpperCase()),
    /^TypeError: Cannot decode z-base-32 key: invalid character "D" at index 0/,
  );
  // 52 characters carry 260 bits: the last 4 must be zero.
  assert.throws(() => endpointIdFromZ32(IROH_Z32.slice(0, 51) + "n"), /trailing bits/);
});
