import assert from "node:assert/strict";
import { DatagramBatcher, splitDatagrams } from "./datagram_batch.ts";
import {
  decodeRelayFrame,
  encodeRelayFrame,
  MAX_BATCH_PAYLOAD,
  MAX_DATAGRAM_PAYLOAD,
  MAX_PACKET_SIZE,
  type RelayFrame,
  RelayFrameError,
} from "./frames.ts";

const A = new Uint8Array(32).fill(0xa);
const B = new Uint8Array(32).fill(0xb);
const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);
const datagram = (destination: Uint8Array, payload: Uint8Array, segmentSize?: number) =>
  encodeRelayFrame({
    type: "client-to-relay-datagram",
    destination,
    ecn: 0,
    payload,
    ...(segmentSize === undefined ? {} : { segmentSize }),
  }, 2);
const join = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

Deno.test("splitDatagrams() cuts a batch into segments, the last one possibly shorter", () => {
  const payload = Uint8Array.of(1, 2, 3, 4, 5, 6, 7);
  assert.deepEqual(splitDatagrams(payload, 3), [
    Uint8Array.of(1, 2, 3),
    Uint8Array.of(4, 5, 6),
    Uint8Array.of(7),
  ]);
  assert.deepEqual(splitDatagrams(payload, 7), [payload]);
  assert.deepEqual(splitDatagrams(payload.subarray(0, 6), 2).map((d) => d.length), [2, 2, 2]);
});

Deno.test("splitDatagrams() gives one datagram without a segment size or with one past the payload", () => {
  const payload = Uint8Array.of(1, 2, 3);
  assert.deepEqual(splitDatagrams(payload), [payload]);
  assert.deepEqual(splitDatagrams(payload, 65_535), [payload]);
  assert.deepEqual(splitDatagrams(new Uint8Array(0), 4), [new Uint8Array(0)]);
  // Views, not copies.
  assert.equal(splitDatagrams(payload, 1)[2].buffer, payload.buffer);
});

Deno.test("splitDatagrams() refuses a segment size of zero or less", () => {
  assert.throws(() => splitDatagrams(Uint8Array.of(1, 2), 0), RangeError);
  assert.throws(() => splitDatagrams(Uint8Array.of(1, 2), -1), RangeError);
  assert.throws(() => splitDatagrams(Uint8Array.of(1, 2), 0.5), RangeError);
});

Deno.test("DatagramBatcher sends a lone datagram as a plain datagram frame", () => {
  const batcher = new DatagramBatcher();
  assert.equal(batcher.pending, false);
  assert.equal(batcher.flush(), undefined);
  assert.equal(batcher.add(A, Uint8Array.of(1, 2, 3)), undefined);
  assert.equal(batcher.pending, true);
  assert.deepEqual(batcher.flush(), datagram(A, Uint8Array.of(1, 2, 3)));
  assert.equal(batcher.pending, false);
});

Deno.test("DatagramBatcher puts equal-size datagrams in one batch frame, byte-exact", () => {
  const batcher = new DatagramBatcher();
  for (let i = 0; i < 20; i++) assert.equal(batcher.add(A, bytes(1200, i)), undefined);
  const frame = batcher.flush()!;
  const payload = join(...Array.from({ length: 20 }, (_, i) => bytes(1200, i)));
  assert.deepEqual(frame, datagram(A, payload, 1200));
  const decoded = decodeRelayFrame(frame, 1) as Extract<
    RelayFrame,
    { type: "client-to-relay-datagram" }
  >;
  assert.deepEqual(splitDatagrams(decoded.payload, decoded.segmentSize).length, 20);
});

Deno.test("DatagramBatcher ends a batch with a shorter datagram, as GSO does", () => {
  const batcher = new DatagramBatcher();
  batcher.add(A, bytes(100, 1));
  batcher.add(A, bytes(100, 2));
  assert.equal(batcher.add(A, bytes(40, 3)), undefined);
  // Nothing joins after the short one, not even one of the full size.
  const closed = batcher.add(A, bytes(100, 4));
  assert.deepEqual(closed, datagram(A, join(bytes(100, 1), bytes(100, 2), bytes(40, 3)), 100));
  assert.deepEqual(batcher.flush(), datagram(A, bytes(100, 4)));
});

Deno.test("DatagramBatcher starts a new frame for a longer datagram or another destination", () => {
  const batcher = new DatagramBatcher();
  batcher.add(A, bytes(50, 1));
  assert.deepEqual(batcher.add(A, bytes(60, 2)), datagram(A, bytes(50, 1)));
  assert.deepEqual(batcher.add(B, bytes(60, 3)), datagram(A, bytes(60, 2)));
  assert.equal(batcher.add(B, bytes(60, 4)), undefined);
  assert.deepEqual(batcher.flush(), datagram(B, join(bytes(60, 3), bytes(60, 4)), 60));
});

Deno.test("DatagramBatcher keeps a frame within iroh's size limit", () => {
  const batcher = new DatagramBatcher();
  const size = 1452;
  const fit = Math.floor(MAX_BATCH_PAYLOAD / size);
  for (let i = 0; i < fit; i++) assert.equal(batcher.add(A, bytes(size, i)), undefined);
  const full = batcher.add(A, bytes(size, fit))!;
  assert.equal(full.length, 36 + fit * size);
  // encodeRelayFrame enforces the limit: the frame is one it would write.
  assert.deepEqual(
    full,
    datagram(A, join(...Array.from({ length: fit }, (_, i) => bytes(size, i))), size),
  );
  // The largest datagram goes alone, as a plain frame of exactly 64 KiB.
  assert.deepEqual(batcher.add(A, bytes(MAX_DATAGRAM_PAYLOAD, 9)), datagram(A, bytes(size, fit)));
  assert.equal(batcher.flush()!.length, 64 * 1024);
});

Deno.test("DatagramBatcher copies what it is given: callers may reuse their buffers", () => {
  const batcher = new DatagramBatcher();
  const key = A.slice();
  const buffer = bytes(10, 1);
  batcher.add(key, buffer);
  buffer.fill(2);
  batcher.add(key, buffer);
  key.fill(0xc);
  buffer.fill(3);
  assert.deepEqual(batcher.flush(), datagram(A, join(bytes(10, 1), bytes(10, 2)), 10));
});

Deno.test("DatagramBatcher refuses empty and oversized datagrams and bad keys", () => {
  const batcher = new DatagramBatcher();
  assert.throws(() => batcher.add(A, new Uint8Array(0)), RangeError);
  assert.throws(() => batcher.add(A, new Uint8Array(MAX_DATAGRAM_PAYLOAD + 1)), RangeError);
  assert.throws(() => batcher.add(new Uint8Array(31), Uint8Array.of(1)), RangeError);
  assert.equal(batcher.pending, false);
});

Deno.test("DatagramBatcher's frames split back into the datagrams given, in order", () => {
  const batcher = new DatagramBatcher();
  const sent: Uint8Array[] = [];
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 500; i++) {
    // Runs of equal sizes with the odd shorter or longer one, as QUIC sends.
    const size = i % 37 === 0 ? 1 + (i % 300) : i % 11 === 0 ? 80 : 1452;
    const payload = bytes(size, i & 0xff);
    sent.push(payload);
    const closed = batcher.add(A, payload);
    if (closed) frames.push(closed);
  }
  frames.push(batcher.flush()!);
  const received = frames.flatMap((frame) => {
    const decoded = decodeRelayFrame(frame, 2) as Extract<
      RelayFrame,
      { type: "client-to-relay-datagram" }
    >;
    return splitDatagrams(decoded.payload, decoded.segmentSize);
  });
  assert.deepEqual(received, sent);
  assert.ok(frames.length < sent.length / 4, `${frames.length} frames`);
});

Deno.test("a received batch frame over iroh's limit is refused with RelayFrameError", () => {
  for (const type of [5, 7]) {
    const over = new Uint8Array(2 + MAX_PACKET_SIZE);
    over[0] = type;
    over[34] = 0x05; // segment size 1452
    over[35] = 0xac;
    assert.throws(() => decodeRelayFrame(over, 2), RelayFrameError);
    // One byte less is within the limit.
    assert.equal(
      decodeRelayFrame(over.subarray(0, 1 + MAX_PACKET_SIZE), 2).type,
      type === 5 ? "client-to-relay-datagram" : "relay-to-client-datagram",
    );
  }
});

Deno.test("batch frames of any bytes decode and split, or fail with RelayFrameError only", () => {
  for (let i = 0; i < 3_000; i++) {
    const message = crypto.getRandomValues(new Uint8Array(1 + (i % 120)));
    message[0] = i % 2 === 0 ? 5 : 7;
    if (i % 3 === 0 && message.length > 35) message[34] = 0; // small segment sizes too
    let frame: RelayFrame;
    try {
      frame = decodeRelayFrame(message, i % 4 < 2 ? 1 : 2);
    } catch (error) {
      assert.ok(error instanceof RelayFrameError, String(error));
      continue;
    }
    const { payload, segmentSize } = frame as { payload: Uint8Array; segmentSize?: number };
    const datagrams = splitDatagrams(payload, segmentSize);
    assert.equal(datagrams.reduce((n, d) => n + d.length, 0), payload.length);
  }
});
