import assert from "node:assert/strict";
import {
  encodeClientFrame,
  FrameParser,
  Opcode,
  WebSocketProtocolError,
} from "./_websocket_frames.ts";

/** A server frame (unmasked) as a server would write it. */
function serverFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const head = payload.length < 126
    ? [payload.length]
    : payload.length < 65_536
    ? [126, payload.length >> 8, payload.length & 0xff]
    : [
      127,
      0,
      0,
      0,
      0,
      (payload.length >>> 24) & 0xff,
      (payload.length >> 16) & 0xff,
      (payload.length >> 8) & 0xff,
      payload.length & 0xff,
    ];
  return Uint8Array.from([(fin ? 0x80 : 0) | opcode, ...head, ...payload]);
}

Deno.test("encodeClientFrame() masks the payload and uses the shortest length form", () => {
  const mask = Uint8Array.of(1, 2, 3, 4);
  const frame = encodeClientFrame(Opcode.Binary, Uint8Array.of(0x10, 0x20, 0x30, 0x40, 0x50), mask);
  assert.deepEqual(frame, Uint8Array.of(0x82, 0x85, 1, 2, 3, 4, 0x11, 0x22, 0x33, 0x44, 0x51));
  assert.equal(encodeClientFrame(Opcode.Binary, new Uint8Array(200), mask)[1], 0x80 | 126);
  assert.equal(encodeClientFrame(Opcode.Binary, new Uint8Array(70_000), mask)[1], 0x80 | 127);
});

Deno.test("FrameParser reads frames split anywhere, with each length form", () => {
  const payloads = [
    new Uint8Array(5).fill(1),
    new Uint8Array(300).fill(2),
    new Uint8Array(70_000).fill(3),
  ];
  const bytes = Uint8Array.from(payloads.flatMap((p) => [...serverFrame(Opcode.Binary, p)]));
  const parser = new FrameParser(1 << 20);
  const frames = [];
  for (let i = 0; i < bytes.length; i += 777) frames.push(...parser.push(bytes.slice(i, i + 777)));
  assert.deepEqual(frames.map((f) => f.payload.length), [5, 300, 70_000]);
  assert.ok(frames.every((f) => f.fin && f.opcode === Opcode.Binary));
});

Deno.test("FrameParser refuses masked, reserved, oversized and bad control frames", () => {
  const cases = [
    Uint8Array.of(0x82, 0x81, 1, 2, 3, 4, 5), // masked by the server
    Uint8Array.of(0xc2, 0x00), // RSV1
    serverFrame(Opcode.Binary, new Uint8Array(2_000)), // over the 1,000-byte cap below
    serverFrame(Opcode.Ping, new Uint8Array(126)), // control frame over 125
    serverFrame(Opcode.Ping, new Uint8Array(1), false), // fragmented control frame
  ];
  for (const bytes of cases) {
    assert.throws(() => new FrameParser(1_000).push(bytes), WebSocketProtocolError);
  }
  // Fragments count together against the cap.
  const parser = new FrameParser(1_000);
  parser.push(serverFrame(Opcode.Binary, new Uint8Array(600), false));
  assert.throws(
    () => parser.push(serverFrame(Opcode.Continuation, new Uint8Array(600))),
    WebSocketProtocolError,
  );
});

Deno.test("FrameParser never throws anything but its own error on random input", () => {
  for (let i = 0; i < 2_000; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 64)));
    try {
      new FrameParser(4_096).push(bytes);
    } catch (error) {
      assert.ok(error instanceof WebSocketProtocolError, String(error));
    }
  }
});
