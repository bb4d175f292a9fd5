import assert from "node:assert/strict";
import { AsyncQueue } from "../transport/async_queue.ts";
import { memoryConnectionPair } from "../transport/memory.ts";
import type { ByteConn } from "./dialer.ts";
import { encodeSegmentHeader, MAX_STRIPES, SEGMENT_HEADER_BYTES } from "./segments.ts";
import { StripeSet } from "./stripe_set.ts";
import { pipeTcpToStripes, STRIPE_AFTER_BYTES } from "./tcp_pipe.ts";

/** A TCP connection's far end in memory: the test feeds what it sends and collects what it gets. */
class FakeTcp implements ByteConn {
  readonly #toPipe = new AsyncQueue<Uint8Array>();
  #pendingChunk: Uint8Array | undefined;
  readonly received: Uint8Array[] = [];
  #finished!: () => void;
  /** Settles when the pipe half-closes toward us. */
  readonly finished = new Promise<void>((resolve) => this.#finished = resolve);
  closed = false;

  feed(data: Uint8Array): void {
    this.#toPipe.push(data);
  }
  end(): void {
    this.#toPipe.end();
  }
  async read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#pendingChunk ?? await this.#toPipe.shift();
    this.#pendingChunk = undefined;
    if (!chunk) return null;
    const n = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#pendingChunk = chunk.subarray(n);
    return n;
  }
  write(data: Uint8Array): Promise<number> {
    this.received.push(data.slice());
    return Promise.resolve(data.length);
  }
  closeWrite(): Promise<void> {
    this.#finished();
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
    // As a closed socket's pending read, the pipe's read ends.
    this.#toPipe.end();
    this.#finished();
  }
  bytes(): Uint8Array {
    return join(this.received);
  }
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/**
 * Two pipes joined by a memory connection, as client and server join theirs:
 * the opener's grow() opens stripes 1..3 and announces each by a first byte (its index).
 */
async function pipePair(options: { grow?: boolean; askGrow?: () => boolean } = {}) {
  const [a, b] = memoryConnectionPair();
  const first = await a.openStream();
  const opener = new StripeSet(first);
  const near = new FakeTcp();
  const far = new FakeTcp();
  let answerer: StripeSet | undefined;
  const accepted = (async () => {
    for (;;) {
      const stream = await b.acceptStream();
      if (!stream) return;
      if (!answerer) {
        answerer = new StripeSet(stream);
        continue;
      }
      const reader = stream.readable.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      answerer.add(value![0], stream, value!.subarray(1));
    }
  })();
  const grow = () => {
    openStripes();
    return true;
  };
  const openStripes = async () => {
    for (let index = 1; index < MAX_STRIPES; index++) {
      const stream = await a.openStream();
      const writer = stream.writable.getWriter();
      await writer.write(Uint8Array.of(index));
      writer.releaseLock();
      opener.add(index, stream);
    }
  };
  // The first stream appears to the peer when bytes are written: the opener's pipe writes first.
  const nearPipe = pipeTcpToStripes(
    near,
    opener,
    options.askGrow ? { grow: options.askGrow } : options.grow ? { grow } : {},
  );
  near.feed(Uint8Array.of(0xaa));
  while (!answerer) await new Promise((r) => setTimeout(r, 1));
  const farPipe = pipeTcpToStripes(far, answerer);
  return { a, b, near, far, nearPipe, farPipe, opener, answerer: () => answerer!, accepted };
}

Deno.test("pipeTcpToStripes() carries both directions in order over one stripe, with half-close", async () => {
  const { a, near, far, nearPipe, farPipe } = await pipePair();
  const up = pattern(300_000, 1);
  const down = pattern(200_000, 2);
  near.feed(up);
  far.feed(down);
  near.end();
  far.end();
  const [n, f] = await Promise.all([nearPipe, farPipe]);
  assert.deepEqual(far.bytes(), join([Uint8Array.of(0xaa), up]));
  assert.deepEqual(near.bytes(), down);
  assert.equal(n.sent, up.length + 1);
  assert.equal(f.received, up.length + 1);
  a.close();
});

Deno.test("pipeTcpToStripes() spreads a bulk transfer over the stripes and keeps it in order", async () => {
  const { a, near, far, nearPipe, farPipe, opener, answerer } = await pipePair({ grow: true });
  const up = pattern(4 * STRIPE_AFTER_BYTES, 3);
  const down = pattern(3 * STRIPE_AFTER_BYTES + 17, 4);
  // In many small pieces, so segments are small and many.
  for (let offset = 0; offset < up.length; offset += 10_000) {
    near.feed(up.subarray(offset, offset + 10_000));
  }
  // Half of the download before the stripes exist, half after.
  far.feed(down.subarray(0, STRIPE_AFTER_BYTES));
  while (answerer().stripes.filter(Boolean).length < MAX_STRIPES) {
    await new Promise((r) => setTimeout(r, 5));
  }
  far.feed(down.subarray(STRIPE_AFTER_BYTES));
  near.end();
  far.end();
  await Promise.all([nearPipe, farPipe]);
  assert.deepEqual(far.bytes(), join([Uint8Array.of(0xaa), up]));
  assert.deepEqual(near.bytes(), down);
  assert.equal(opener.stripes.filter(Boolean).length, MAX_STRIPES);
  a.close();
});

Deno.test("pipeTcpToStripes() tears down on a segment naming a stripe that never comes", async () => {
  const [a, b] = memoryConnectionPair();
  const stream = await a.openStream();
  const writer = stream.writable.getWriter();
  const header = new Uint8Array(SEGMENT_HEADER_BYTES + 1);
  encodeSegmentHeader(header, { next: 2, length: 1 });
  await writer.write(header);
  await writer.write(Uint8Array.of(0, 0, 0, 1, 9)); // a segment that would be on stripe 2
  const accepted = await b.acceptStream();
  const tcp = new FakeTcp();
  const stripes = new StripeSet(accepted!);
  const started = performance.now();
  const piping = pipeTcpToStripes(tcp, stripes);
  // The wait is bounded by STRIPE_WAIT_MS; closing the set ends it at once.
  setTimeout(() => stripes.close(), 50);
  await piping;
  assert.ok(performance.now() - started < 2_000);
  assert.ok(tcp.closed);
  assert.equal(join(tcp.received).length, 1);
  a.close();
});

Deno.test("pipeTcpToStripes() tears down on a malformed segment header", async () => {
  const [a, b] = memoryConnectionPair();
  const stream = await a.openStream();
  const writer = stream.writable.getWriter();
  await writer.write(Uint8Array.of(7, 0, 0, 1, 1)); // stripe 7 does not exist
  const accepted = await b.acceptStream();
  const tcp = new FakeTcp();
  await pipeTcpToStripes(tcp, new StripeSet(accepted!));
  assert.ok(tcp.closed);
  assert.equal(tcp.received.length, 0);
  a.close();
});

Deno.test("pipeTcpToStripes() tears down on a stripe cut mid-segment, after what arrived", async () => {
  const [a, b] = memoryConnectionPair();
  const stream = await a.openStream();
  const writer = stream.writable.getWriter();
  await writer.write(Uint8Array.of(0, 0, 0, 10, 1, 2, 3));
  await writer.close();
  const accepted = await b.acceptStream();
  const tcp = new FakeTcp();
  await pipeTcpToStripes(tcp, new StripeSet(accepted!));
  assert.ok(tcp.closed);
  // Bytes go out as they arrive, so the three that came are through; the cut tears down.
  assert.deepEqual([...join(tcp.received)], [1, 2, 3]);
  a.close();
});

Deno.test("pipeTcpToStripes() reads segments whatever the chunks they arrive in", async () => {
  const [a, b] = memoryConnectionPair();
  const stream = await a.openStream();
  const writer = stream.writable.getWriter();
  // Three segments on stripe 0, then the end, written one byte at a time and then all at once.
  const wire: number[] = [];
  for (const data of [[1], [2, 3], [4, 5, 6]]) {
    const header = new Uint8Array(SEGMENT_HEADER_BYTES);
    encodeSegmentHeader(header, { next: 0, length: data.length });
    wire.push(...header, ...data);
  }
  const half = Math.floor(wire.length / 2);
  for (const byte of wire.slice(0, half)) await writer.write(Uint8Array.of(byte));
  await writer.write(Uint8Array.from(wire.slice(half)));
  await writer.close();
  const accepted = await b.acceptStream();
  const tcp = new FakeTcp();
  tcp.end();
  const totals = await pipeTcpToStripes(tcp, new StripeSet(accepted!));
  assert.deepEqual([...tcp.bytes()], [1, 2, 3, 4, 5, 6]);
  assert.equal(totals.received, 6);
  a.close();
});

Deno.test("pipeTcpToStripes() asks again, after as many bytes more, when grow() declines", async () => {
  let asked = 0;
  const { a, near, far, nearPipe, farPipe, opener } = await pipePair({
    askGrow: () => {
      asked++;
      return false;
    },
  });
  near.feed(pattern(3 * STRIPE_AFTER_BYTES + 10, 5));
  near.end();
  far.end();
  await Promise.all([nearPipe, farPipe]);
  assert.equal(asked, 3);
  assert.equal(opener.stripes.filter(Boolean).length, 1);
  a.close();
});
