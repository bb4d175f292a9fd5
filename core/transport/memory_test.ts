import assert from "node:assert/strict";
import { describeTransportCompliance } from "./compliance.ts";
import type { DuplexStream, PeerConnection } from "./connection.ts";
import { memoryConnectionPair } from "./memory.ts";

describeTransportCompliance("memoryConnectionPair()", () => {
  const [a, b] = memoryConnectionPair();
  return Promise.resolve({ a, b, close: () => Promise.resolve(a.close()) });
});

/** Whether `promise` settles within `ms`, leaving no timer behind. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a stream on `from`, writes one byte so `to` sees it, and accepts it there. */
async function connectedStream(from: PeerConnection, to: PeerConnection) {
  const opened = await from.openStream();
  const writer = opened.writable.getWriter();
  await writer.write(new Uint8Array([1]));
  const accepted = (await to.acceptStream())!;
  const reader = accepted.readable.getReader();
  assert.deepEqual((await reader.read()).value, new Uint8Array([1]));
  return { opened, writer, accepted, reader };
}

Deno.test("memoryConnectionPair() stalls a writer once the peer holds streamBufferBytes unread", async () => {
  const [a, b] = memoryConnectionPair({ streamBufferBytes: 256 * 1024 });
  try {
    const { writer, reader } = await connectedStream(a, b);
    reader.read(); // takes the first chunk written below, leaving the 256 KiB bound for the rest
    const chunk = new Uint8Array(64 * 1024);
    await writer.write(chunk);
    for (let i = 0; i < 4; i++) {
      assert.ok(await settlesWithin(writer.write(chunk), 100), `write ${i} within the bound`);
    }
    const stalled = writer.write(chunk);
    assert.equal(await settlesWithin(stalled, 100), false, "a write past the bound resolved");
    // Reading one chunk's worth makes room, and the stalled write completes.
    let read = 0;
    while (read < chunk.length) read += (await reader.read()).value!.length;
    assert.ok(await settlesWithin(stalled, 1_000), "the stalled write did not resume");
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() resets at once when a writer aborts while waiting for room", async () => {
  const [a, b] = memoryConnectionPair({ streamBufferBytes: 1024 });
  try {
    const { writer, reader } = await connectedStream(a, b);
    const waiting = writer.write(new Uint8Array(4096));
    assert.equal(await settlesWithin(waiting, 50), false, "the write did not wait for room");
    const aborted = writer.abort(new Error("give up"));
    await assert.rejects(reader.read(), /reset/);
    assert.ok(await settlesWithin(aborted, 1_000), "abort() did not finish");
    await assert.rejects(waiting);
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() copies written chunks, so writers may reuse their buffer", async () => {
  const [a, b] = memoryConnectionPair();
  try {
    const { writer, reader } = await connectedStream(a, b);
    const buffer = new Uint8Array([7, 7, 7]);
    await writer.write(buffer);
    buffer.fill(0);
    assert.deepEqual((await reader.read()).value, new Uint8Array([7, 7, 7]));
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() streams support BYOB readers", async () => {
  const [a, b] = memoryConnectionPair();
  try {
    const opened = await a.openStream();
    const writer = opened.writable.getWriter();
    await writer.write(new Uint8Array([1, 2, 3, 4, 5]));
    await writer.close();
    const accepted = (await b.acceptStream())!;
    const reader = accepted.readable.getReader({ mode: "byob" });
    const first = await reader.read(new Uint8Array(3));
    assert.deepEqual(first.value, new Uint8Array([1, 2, 3]));
    const second = await reader.read(new Uint8Array(first.value!.buffer));
    assert.deepEqual(second.value, new Uint8Array([4, 5]));
    const end = await reader.read(new Uint8Array(second.value!.buffer));
    assert.equal(end.done, true);
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() keeps the newest datagrams when the peer's buffer is full", async () => {
  const [a, b] = memoryConnectionPair({ datagramBufferBytes: 4 * 100 });
  try {
    for (let i = 0; i < 10; i++) await a.sendDatagram(new Uint8Array(100).fill(i));
    const received: number[] = [];
    for (let i = 0; i < 4; i++) received.push((await b.readDatagram())![0]);
    assert.deepEqual(received, [6, 7, 8, 9]);
    const next = b.readDatagram();
    assert.equal(await settlesWithin(next, 50), false, "more than the bound was kept");
    a.close();
    assert.equal(await next, null);
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() rejects a datagram over maxDatagramSize with a RangeError", async () => {
  const [a, b] = memoryConnectionPair({ maxDatagramSize: 500 });
  try {
    assert.equal(a.maxDatagramSize, 500);
    await a.sendDatagram(new Uint8Array(500));
    await assert.rejects(a.sendDatagram(new Uint8Array(501)), RangeError);
    assert.equal((await b.readDatagram())!.length, 500);
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() makes openStream() wait at maxStreams until a stream is done", async () => {
  const [a, b] = memoryConnectionPair({ maxStreams: 2 });
  try {
    const first = await connectedStream(a, b);
    await connectedStream(a, b);
    const third = a.openStream();
    assert.equal(await settlesWithin(third, 50), false, "a third stream opened past maxStreams=2");
    // The accepter finishing its end frees the slot, though the opener never reads.
    await first.writer.close();
    assert.equal((await first.reader.read()).done, true);
    await first.accepted.writable.close();
    assert.ok(await settlesWithin(third, 1_000), "the slot was not freed");
  } finally {
    a.close();
  }
});

Deno.test("memoryConnectionPair() reports each side's address as the other's remoteAddr", () => {
  const [a, b] = memoryConnectionPair({
    addrs: [{ hostname: "10.0.0.1", port: 1000 }, { hostname: "10.0.0.2", port: 2000 }],
  });
  assert.deepEqual(a.remoteAddr, { hostname: "10.0.0.2", port: 2000 });
  assert.deepEqual(b.remoteAddr, { hostname: "10.0.0.1", port: 1000 });
  a.close();
});

Deno.test("memoryConnectionPair() rejects options that are not positive integers", () => {
  assert.throws(() => memoryConnectionPair({ maxDatagramSize: 0 }), RangeError);
  assert.throws(() => memoryConnectionPair({ streamBufferBytes: 1.5 }), RangeError);
});

Deno.test("memoryConnectionPair() errors streams of a closed connection with its code and reason", async () => {
  const [a, b] = memoryConnectionPair();
  const { accepted }: { accepted: DuplexStream } = await connectedStream(a, b);
  b.close({ code: 4, reason: "gone" });
  const writer = accepted.writable.getWriter();
  await assert.rejects(writer.write(new Uint8Array(1)), /closed \(code 4: gone\)/);
});
