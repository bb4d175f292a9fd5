import assert from "node:assert/strict";
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  COOKIE_REPLY_SIZE,
  decodeCookieReply,
  decodeInitiation,
  decodeResponse,
  decodeTransportHeader,
  encodeCookieReply,
  encodeInitiation,
  encodeResponse,
  INITIATION_SIZE,
  messageType,
  RESPONSE_SIZE,
  WireGuardMessageError,
  writeTransportHeader,
} from "./messages.ts";

const fill = (size: number, byte: number) => new Uint8Array(size).fill(byte);
const initiation = {
  sender: 0x04030201,
  ephemeral: fill(32, 0xe0),
  encryptedStatic: fill(48, 0x5a),
  encryptedTimestamp: fill(28, 0x7e),
  mac1: fill(16, 0x11),
  mac2: fill(16, 0x22),
};
const response = {
  sender: 0xdeadbeef,
  receiver: 7,
  ephemeral: fill(32, 0xe1),
  encryptedNothing: fill(16, 0x0e),
  mac1: fill(16, 0x11),
  mac2: fill(16, 0x22),
};
const cookieReply = {
  receiver: 0x01020304,
  nonce: fill(24, 0x99),
  encryptedCookie: fill(32, 0xcc),
};

Deno.test("encodeInitiation() writes WireGuard's layout (golden bytes)", () => {
  const hex = bytesToHex(encodeInitiation(initiation));
  assert.equal(
    hex,
    "01000000" + "01020304" + "e0".repeat(32) + "5a".repeat(48) + "7e".repeat(28) +
      "11".repeat(16) +
      "22".repeat(16),
  );
  assert.equal(hex.length / 2, INITIATION_SIZE);
});

Deno.test("encodeResponse() and encodeCookieReply() write WireGuard's layouts (golden bytes)", () => {
  assert.equal(
    bytesToHex(encodeResponse(response)),
    "02000000" + "efbeadde" + "07000000" + "e1".repeat(32) + "0e".repeat(16) + "11".repeat(16) +
      "22".repeat(16),
  );
  assert.equal(
    bytesToHex(encodeCookieReply(cookieReply)),
    "03000000" + "04030201" + "99".repeat(24) + "cc".repeat(32),
  );
  const header = new Uint8Array(16);
  writeTransportHeader(header, { receiver: 5, counter: 2 ** 40 + 3 });
  assert.equal(bytesToHex(header), "04000000" + "05000000" + "0300000000010000");
});

Deno.test("decoders round-trip every message", () => {
  assert.deepEqual(decodeInitiation(encodeInitiation(initiation)), initiation);
  assert.deepEqual(decodeResponse(encodeResponse(response)), response);
  assert.deepEqual(decodeCookieReply(encodeCookieReply(cookieReply)), cookieReply);
  const message = new Uint8Array(48);
  writeTransportHeader(message, { receiver: 0xffffffff, counter: Number.MAX_SAFE_INTEGER });
  assert.deepEqual(decodeTransportHeader(message), {
    receiver: 0xffffffff,
    counter: Number.MAX_SAFE_INTEGER,
  });
});

Deno.test("decoders reject wrong lengths and types with WireGuardMessageError", () => {
  const bytes = encodeInitiation(initiation);
  for (const bad of [bytes.subarray(0, 147), new Uint8Array([...bytes, 0])]) {
    assert.throws(() => decodeInitiation(bad), WireGuardMessageError);
  }
  assert.throws(() => decodeResponse(bytes), WireGuardMessageError);
  assert.throws(
    () => decodeResponse(encodeResponse(response).subarray(0, RESPONSE_SIZE - 1)),
    WireGuardMessageError,
  );
  assert.throws(
    () => decodeCookieReply(encodeCookieReply(cookieReply).subarray(1)),
    WireGuardMessageError,
  );
  assert.throws(() => decodeCookieReply(new Uint8Array(COOKIE_REPLY_SIZE)), WireGuardMessageError);
  const transport = new Uint8Array(31);
  transport[0] = 4;
  assert.throws(() => decodeTransportHeader(transport), WireGuardMessageError);
  assert.throws(
    () => decodeTransportHeader(new Uint8Array(70_000).fill(4, 0, 1)),
    WireGuardMessageError,
  );
  assert.throws(() => encodeInitiation({ ...initiation, mac1: new Uint8Array(15) }), RangeError);
});

Deno.test("messageType() accepts only types 1 to 4 followed by three zero bytes", () => {
  assert.equal(messageType(new Uint8Array([1, 0, 0, 0])), 1);
  assert.equal(messageType(new Uint8Array([4, 0, 0, 0, 9])), 4);
  for (const bad of [[], [1, 0, 0], [0, 0, 0, 0], [5, 0, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1]]) {
    assert.equal(messageType(new Uint8Array(bad)), 0, JSON.stringify(bad));
  }
});

Deno.test("decoders never fail other than with WireGuardMessageError on flipped bits and truncation", () => {
  const samples = [
    encodeInitiation(initiation),
    encodeResponse(response),
    encodeCookieReply(cookieReply),
  ];
  const decoders = [decodeInitiation, decodeResponse, decodeCookieReply, decodeTransportHeader];
  let seed = 1;
  const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  for (let i = 0; i < 2_000; i++) {
    const base = samples[i % samples.length];
    const copy = base.slice(0, i % 2 === 0 ? random(base.length + 1) : base.length);
    if (copy.length > 0) copy[random(copy.length)] ^= 1 << random(8);
    for (const decode of decoders) {
      try {
        decode(copy);
      } catch (error) {
        assert.ok(error instanceof WireGuardMessageError, String(error));
      }
    }
  }
});
