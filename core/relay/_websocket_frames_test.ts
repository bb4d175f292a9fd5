import assert from "node:assert/strict";
import {
  clientFrameLength,
  encodeClientFrame,
  encodeServerFrame,
  FrameParser,
  Opcode,
  WebSocketProtocolError,
  writeClientFrame,
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

Deno.test("writeClientFrame() masks like the byte-by-byte rule at any offset and length", () => {
  const mask = Uint8Array.of(0x9e, 0x01, 0x7c, 0xe5);
  for (const length of [0, 1, 3, 4, 5, 125, 126, 127, 1_452, 65_535, 65_536, 70_001]) {
    const payload = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
    const header = clientFrameLength(length) - length;
    for (let offset = 0; offset < 5; offset++) {
      const out = new Uint8Array(offset + clientFrameLength(length) + 3);
      assert.equal(writeClientFrame(out, offset, Opcode.Binary, payload, mask), out.length - 3);
      const masked = out.subarray(offset + header, offset + header + length);
      assert.ok(masked.every((b, i) => b === (payload[i] ^ mask[i & 3])), `${length} at ${offset}`);
      assert.deepEqual(out.subarray(offset + header - 4, offset + header), mask);
    }
  }
  assert.throws(
    () => writeClientFrame(new Uint8Array(10), 0, Opcode.Binary, new Uint8Array(5), mask),
    RangeError,
  );
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

Deno.test("FrameParser gives the same frames for every way of cutting the bytes", () => {
  const sent = [
    serverFrame(Opcode.Binary, Uint8Array.of(1)),
    serverFrame(Opcode.Ping, Uint8Array.of(2, 2)),
    serverFrame(Opcode.Binary, new Uint8Array(0)),
    serverFrame(Opcode.Binary, new Uint8Array(126).fill(3), false),
    serverFrame(Opcode.Continuation, new Uint8Array(300).fill(4)),
    serverFrame(Opcode.Binary, new Uint8Array(65_536).fill(5)),
    serverFrame(Opcode.Pong, new Uint8Array(0)),
  ];
  const bytes = Uint8Array.from(sent.flatMap((frame) => [...frame]));
  const expected = new FrameParser(1 << 20).push(bytes);
  assert.equal(expected.length, sent.length);
  const summary = (frames: { fin: boolean; opcode: number; payload: Uint8Array }[]) =>
    frames.map((f) => `${f.fin} ${f.opcode} ${f.payload.length} ${f.payload[0]}`);
  // Two chunks, cut at every byte of the first frames and around the big one.
  const cuts = [...Array(500).keys(), ...Array.from({ length: 30 }, (_, i) => 440 + 2_000 * i)];
  for (const cut of cuts) {
    const parser = new FrameParser(1 << 20);
    const frames = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
    assert.deepEqual(summary(frames), summary(expected), `cut at ${cut}`);
  }
  // One byte at a time.
  const parser = new FrameParser(1 << 20);
  const frames = [];
  for (let i = 0; i < bytes.length; i++) frames.push(...parser.push(bytes.subarray(i, i + 1)));
  assert.deepEqual(summary(frames), summary(expected));
  assert.deepEqual(frames[5].payload, new Uint8Array(65_536).fill(5));
});

Deno.test("FrameParser hands whole frames out as views into the chunk", () => {
  const chunk = Uint8Array.from([
    ...serverFrame(Opcode.Binary, Uint8Array.of(1, 2)),
    ...serverFrame(Opcode.Binary, Uint8Array.of(3)),
  ]);
  const frames = new FrameParser(1_000).push(chunk);
  assert.equal(frames[0].payload.buffer, chunk.buffer);
  assert.equal(frames[1].payload.byteOffset, 6);
});

Deno.test("FrameParser refuses an oversized frame from its header, before its payload", () => {
  const parser = new FrameParser(1_000);
  assert.deepEqual(parser.push(Uint8Array.of(0x82, 127, 0, 0, 0)), []);
  assert.throws(
    () => parser.push(Uint8Array.of(0, 0x7f, 0xff, 0xff, 0xff)),
    WebSocketProtocolError,
  );
  assert.throws(
    () => new FrameParser(1_000).push(Uint8Array.of(0x82, 126, 0x07, 0xd0)),
    WebSocketProtocolError,
  );
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

Deno.test("encodeServerFrame() writes what serverFrame() does: unmasked", () => {
  for (const size of [0, 125, 126, 65_535, 65_536]) {
    const payload = crypto.getRandomValues(new Uint8Array(size));
    assert.deepEqual(
      encodeServerFrame(Opcode.Binary, payload),
      serverFrame(Opcode.Binary, payload),
    );
  }
});

Deno.test("FrameParser with masked: true reads client frames split anywhere and unmasks them", () => {
  const mask = Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4);
  const payloads = [0, 5, 300, 70_000].map((n) => Uint8Array.from({ length: n }, (_, i) => i * 31));
  const bytes = Uint8Array.from(
    payloads.flatMap((p) => [...encodeClientFrame(Opcode.Binary, p, mask)]),
  );
  for (const step of [1, 13, 4_096, bytes.length]) {
    const parser = new FrameParser(1 << 20, { masked: true });
    const frames = [];
    for (let i = 0; i < bytes.length; i += step) {
      frames.push(...parser.push(bytes.slice(i, i + step)));
    }
    assert.deepEqual(frames.map((f) => f.payload), payloads, `in pieces of ${step}`);
  }
  // A server reading a client refuses an unmasked frame.
  assert.throws(
    () =>
      new FrameParser(1 << 20, { masked: true }).push(serverFrame(Opcode.Binary, Uint8Array.of(1))),
    WebSocketProtocolError,
  );
});

Deno.test("FrameParser refuses an oversized message from its header, before any payload", () => {
  const mask = Uint8Array.of(1, 2, 3, 4);
  // Only the headers (no payload byte) of a 64 MiB message (64-bit length) and
  // of a 2,000-byte one (16-bit length), each over the parser's cap.
  const long = Uint8Array.of(0x82, 0x80 | 127, 0, 0, 0, 0, 0x04, 0, 0, 0, ...mask);
  const medium = Uint8Array.of(0x82, 0x80 | 126, 0x07, 0xd0, ...mask);
  for (const [header, cap] of [[long, 1 << 20], [medium, 1_000]] as const) {
    assert.throws(
      () => new FrameParser(cap, { masked: true }).push(header),
      (error: Error) =>
        error instanceof WebSocketProtocolError && /^message over \d+ bytes$/.test(error.message),
    );
  }
});

Deno.test("FrameParser unmasks payloads at every alignment and length", () => {
  const mask = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
  for (let offset = 0; offset < 8; offset++) {
    for (const length of [0, 1, 3, 15, 16, 17, 31, 64, 1_001]) {
      const payload = Uint8Array.from({ length }, (_, i) => (i * 7 + offset) & 0xff);
      const frame = encodeClientFrame(Opcode.Binary, payload, mask);
      // Put the frame at `offset` in its buffer, so the payload starts unaligned too.
      const buffer = new Uint8Array(offset + frame.length);
      buffer.set(frame, offset);
      const [parsed] = new FrameParser(4_096, { masked: true }).push(buffer.subarray(offset));
      assert.deepEqual(parsed.payload, payload, `offset ${offset}, length ${length}`);
    }
  }
});
