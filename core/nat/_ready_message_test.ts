import assert from "node:assert/strict";
import {
  _decodeReady,
  _encodeReady,
  _isReadyDatagram,
  type _ReadyMessage,
} from "./_ready_message.ts";

const MESSAGE: _ReadyMessage = {
  heardYou: true,
  senderUfrag: "ab12",
  recipientUfrag: "cd34",
  observed: ["192.0.2.7", 50000],
};

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("_encodeReady() writes the documented layout", () => {
  assert.equal(
    hex(_encodeReady(MESSAGE)),
    "ff746e52" + "01" + "01" + "04" + hex(new TextEncoder().encode("ab12")) + "04" +
      hex(new TextEncoder().encode("cd34")) + "09" + hex(new TextEncoder().encode("192.0.2.7")) +
      "c350",
  );
});

Deno.test("_decodeReady() round-trips IPv4 and IPv6 messages", () => {
  for (
    const message of [MESSAGE, {
      ...MESSAGE,
      heardYou: false,
      observed: ["2001:db8::1", 1] as const,
    }]
  ) {
    assert.deepEqual(_decodeReady(_encodeReady(message)), message);
  }
});

Deno.test("_decodeReady() returns undefined for every truncation and never throws on bit flips", () => {
  const bytes = _encodeReady(MESSAGE);
  for (let length = 0; length < bytes.length; length++) {
    assert.equal(_decodeReady(bytes.subarray(0, length)), undefined, `length ${length}`);
  }
  for (let i = 0; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = bytes.slice();
      flipped[i] ^= 1 << bit;
      _decodeReady(flipped); // must not throw
    }
  }
  assert.equal(_decodeReady(new Uint8Array([...bytes, 0])), undefined, "trailing byte");
});

Deno.test("_decodeReady() rejects another version and a non-IP address", () => {
  const bytes = _encodeReady(MESSAGE);
  const version2 = bytes.slice();
  version2[4] = 2;
  assert.equal(_decodeReady(version2), undefined);
  assert.equal(_decodeReady(_encodeReady({ ...MESSAGE, observed: ["peer.local", 1] })), undefined);
});

Deno.test("_isReadyDatagram() never claims a STUN message", () => {
  // A STUN Binding request starts with 0x0001 and carries the magic cookie at offset 4.
  const stun = new Uint8Array([
    0x00,
    0x01,
    0x00,
    0x00,
    0x21,
    0x12,
    0xa4,
    0x42,
    ...new Array(12).fill(0),
  ]);
  assert.equal(_isReadyDatagram(stun), false);
  assert.equal(_isReadyDatagram(_encodeReady(MESSAGE)), true);
});
