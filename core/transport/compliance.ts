/**
 * One test suite for every {@linkcode PeerConnection} implementation, so the
 * in-memory pair and real QUIC are held to the same contract. Test-only: it
 * registers `Deno.test` cases when called, and is imported from its own file,
 * not from `mod.ts`.
 *
 * ```ts ignore
 * import { describeTransportCompliance } from "./compliance.ts";
 * import { memoryConnectionPair } from "./memory.ts";
 * describeTransportCompliance("memory", () => {
 *   const [a, b] = memoryConnectionPair();
 *   return Promise.resolve({ a, b, close: () => Promise.resolve(a.close()) });
 * });
 * ```
 * @module
 */
import assert from "node:assert/strict";
import type { DuplexStream, PeerConnection } from "./connection.ts";

/** Two connected ends and a way to release everything behind them. */
export interface ConnectionPair {
  /** One end (the dialer, for a real transport). */
  a: PeerConnection;
  /** The other end (the listener's side). */
  b: PeerConnection;
  /** Closes both ends and whatever made them (a listener, sockets). */
  close(): Promise<void>;
}

/** Options for {@linkcode describeTransportCompliance}. */
export interface ComplianceOptions {
  /**
   * Cases known to fail, by name (without the prefix), with why. Such a case
   * still runs and passes only while it fails; once it passes it fails, asking
   * for its entry to be removed. An unknown name throws a `TypeError`.
   */
  expectedFailures?: Record<string, string>;
}

/** How long any single wait in a case may take before the case fails instead of hanging. */
const STEP_TIMEOUT_MS = 5_000;
/** Bytes each way in the bulk case: enough to cross every window and buffer many times. */
const BULK_BYTES = 10 * 1024 * 1024;
/** Write and read size in the bulk case, as tcp_pipe's. */
const BULK_CHUNK = 64 * 1024;
/**
 * Streams in the sequential case: past the 1,024 open streams both transports
 * allow, so a finished stream whose slot (QUIC stream credit) is not given back
 * makes `openStream()` stall instead of going unnoticed.
 */
const SEQUENTIAL_STREAMS = 2_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Case = (pair: ConnectionPair) => Promise<void>;

/**
 * Registers the transport compliance cases as `Deno.test`s named
 * `${name}: <case>`. Each case makes a fresh pair with `makePair`, closes it
 * with the pair's `close()` whatever happens, and bounds every wait so a broken
 * transport fails a case rather than hanging it.
 * @throws {TypeError} when `options.expectedFailures` names a case that does not exist.
 */
export function describeTransportCompliance(
  name: string,
  makePair: () => Promise<ConnectionPair>,
  options: ComplianceOptions = {},
): void {
  const expected = options.expectedFailures ?? {};
  for (const key of Object.keys(expected)) {
    if (!(key in CASES)) throw new TypeError(`Cannot expect a failure: no case is named "${key}"`);
  }
  for (const [title, run] of Object.entries(CASES)) {
    const why = expected[title];
    Deno.test(`${name}: ${title}${why ? " (expected to fail)" : ""}`, async () => {
      const pair = await within(makePair(), "making a connection pair");
      let failure: unknown;
      try {
        await run(pair);
      } catch (error) {
        failure = error;
      } finally {
        await within(pair.close(), "closing the connection pair");
      }
      if (why === undefined && failure !== undefined) throw failure;
      if (why !== undefined && failure === undefined) {
        throw new Error(`"${title}" now passes: remove it from expectedFailures (${why})`);
      }
    });
  }
}

const CASES: Record<string, Case> = {
  async "streams opened on either side are accepted by the other"({ a, b }) {
    for (const [opener, accepter] of [[a, b], [b, a]]) {
      const opened = await within(opener.openStream(), "openStream()");
      await send(opened, "hello");
      const accepted = await accept(accepter);
      assert.equal(await readText(accepted, 5), "hello");
      await send(accepted, "hi back");
      assert.equal(await readText(opened, 7), "hi back");
      await Promise.all([closeWrite(opened), closeWrite(accepted)]);
    }
  },

  async "a stream appears to the peer once its opener writes"({ a, b }) {
    const opened = await within(a.openStream(), "openStream()");
    const accepting = b.acceptStream();
    assert.equal(await settlesWithin(accepting, 200), false, "seen before any byte was written");
    await send(opened, "first");
    const accepted = await within(accepting, "acceptStream() after the first write");
    assert.ok(accepted, "acceptStream() returned null on an open connection");
    assert.equal(await readText(accepted, 5), "first");
  },

  async "a half-closed stream still carries the other direction"({ a, b }) {
    for (const [opener, accepter] of [[a, b], [b, a]]) {
      // The opener ends its half first: it still receives the answer.
      const request = await within(opener.openStream(), "openStream()");
      await send(request, "request", { close: true });
      const served = await accept(accepter);
      assert.equal(await readAll(served), "request");
      await send(served, "response", { close: true });
      assert.equal(await readAll(request), "response");

      // The accepter ends its half first: the opener still sends.
      const upload = await within(opener.openStream(), "openStream()");
      await send(upload, "part 1, ");
      const receiving = await accept(accepter);
      await closeWrite(receiving);
      assert.equal(await readAll(upload), "");
      await send(upload, "part 2", { close: true });
      assert.equal(await readAll(receiving), "part 1, part 2");
    }
  },

  async "10 MB each way arrive intact at once"({ a, b }) {
    const fromA = randomBytes(BULK_BYTES);
    const fromB = randomBytes(BULK_BYTES);
    const ab = await within(a.openStream(), "openStream()");
    const writingA = writeAll(ab, fromA);
    const ba = await accept(b);
    const writingB = writeAll(ba, fromB);
    // One direction read with a BYOB reader when offered (tcp_pipe prefers it), one without.
    const [atB, atA] = await within(
      Promise.all([readBytes(ba, BULK_BYTES, true), readBytes(ab, BULK_BYTES, false)]),
      "moving 10 MB each way",
      30_000,
    );
    await within(Promise.all([writingA, writingB]), "finishing the writes");
    assertSameBytes(atB, fromA, "a to b");
    assertSameBytes(atA, fromB, "b to a");
  },

  async "2,000 sequential streams each carry a message and close"({ a, b }) {
    for (let i = 0; i < SEQUENTIAL_STREAMS; i++) {
      const opened = await within(a.openStream(), `openStream() for stream ${i}`);
      await send(opened, `message ${i}`, { close: true });
      const accepted = await accept(b, `stream ${i}`);
      assert.equal(await readAll(accepted), `message ${i}`);
      await closeWrite(accepted);
      assert.equal(await readAll(opened), "");
    }
  },

  async "datagrams cross both ways"({ a, b }) {
    for (const [from, to, label] of [[a, b, "a to b"], [b, a, "b to a"]] as const) {
      const payload = encoder.encode(`datagram ${label}`);
      const received = await deliverDatagram(from, to, payload);
      assert.deepEqual(received, payload, `the datagram ${label} changed on the way`);
    }
  },

  async "a datagram over maxDatagramSize is rejected"({ a, b }) {
    for (const conn of [a, b]) {
      const max = conn.maxDatagramSize;
      assert.ok(max > 0, `maxDatagramSize is ${max}`);
      await within(conn.sendDatagram(new Uint8Array(max)), `sending ${max} bytes`);
      await assert.rejects(
        within(conn.sendDatagram(new Uint8Array(max + 1)), `sending ${max + 1} bytes`),
        /too large/,
      );
    }
  },

  async "close() tells the peer its code and reason"({ a, b }) {
    a.close({ code: 7, reason: "compliance: done" });
    assert.deepEqual(await within(b.closed, "the peer's closed"), {
      code: 7,
      reason: "compliance: done",
    });
  },

  async "closed settles on both sides with the closer's code and reason"({ a, b }) {
    b.close({ code: 3, reason: "compliance: b leaves" });
    b.close({ code: 9, reason: "a second close is ignored" });
    const expected = { code: 3, reason: "compliance: b leaves" };
    assert.deepEqual(await within(b.closed, "the closer's closed"), expected);
    assert.deepEqual(await within(a.closed, "the peer's closed"), expected);
  },

  async "after close nothing waits: accept and datagram reads give null, streams end"({ a, b }) {
    const opened = await within(a.openStream(), "openStream()");
    await send(opened, "x");
    const accepted = await accept(b);
    assert.equal(await readText(accepted, 1), "x");
    const pending = {
      streamReadA: settle(opened.readable.getReader().read()),
      streamReadB: settle(accepted.readable.getReader().read()),
      acceptA: a.acceptStream(),
      acceptB: b.acceptStream(),
      datagramA: a.readDatagram(),
      datagramB: b.readDatagram(),
    };
    a.close({ code: 5, reason: "compliance: closing" });
    await within(Promise.all([a.closed, b.closed]), "both sides' closed");

    for (const side of ["A", "B"] as const) {
      assert.equal(
        await within(pending[`accept${side}`], `a pending acceptStream() (${side})`),
        null,
      );
      assert.equal(
        await within(pending[`datagram${side}`], `a pending readDatagram() (${side})`),
        null,
      );
      const read = await within(pending[`streamRead${side}`], `a pending stream read (${side})`);
      assert.ok(!read.ok || read.value.done, `a pending stream read (${side}) returned data`);
    }
    for (const [conn, side] of [[a, "a"], [b, "b"]] as const) {
      assert.equal(await within(conn.acceptStream(), `acceptStream() (${side})`), null);
      assert.equal(await within(conn.readDatagram(), `readDatagram() (${side})`), null);
      await assert.rejects(within(conn.openStream(), `openStream() (${side})`));
      await assert.rejects(
        within(conn.sendDatagram(new Uint8Array(1)), `sendDatagram() (${side})`),
      );
    }
    for (const [stream, side] of [[opened, "a"], [accepted, "b"]] as const) {
      const writer = stream.writable.getWriter();
      await assert.rejects(within(writer.write(new Uint8Array(1)), `a stream write (${side})`));
    }
  },

  async "writer.abort() makes the peer's reads fail (reset)"({ a, b }) {
    const opened = await within(a.openStream(), "openStream()");
    await send(opened, "partial");
    const accepted = await accept(b);
    assert.equal(await readText(accepted, 7), "partial");
    const reading = settle(accepted.readable.getReader().read());
    await within(opened.writable.abort(new Error("compliance: abort")), "abort()");
    const read = await within(reading, "the peer's read after the reset");
    assert.ok(
      !read.ok,
      `the peer's read ${read.ok && read.value.done ? "ended cleanly" : "got data"}`,
    );
  },

  async "readable.cancel() makes the peer's writes fail (stop-sending)"({ a, b }) {
    const opened = await within(a.openStream(), "openStream()");
    await send(opened, "x");
    const accepted = await accept(b);
    await within(accepted.readable.cancel(new Error("compliance: stop")), "cancel()");
    const writer = opened.writable.getWriter();
    const chunk = new Uint8Array(16 * 1024);
    // Writes the peer's STOP_SENDING has not yet reached may still succeed.
    const written = await within(
      (async () => {
        let total = 0;
        for (; total < 64 * 1024 * 1024; total += chunk.length) {
          if (!(await settle(writer.write(chunk))).ok) return total;
        }
        return -1;
      })(),
      "writing until a write fails",
    );
    assert.notEqual(written, -1, "64 MiB of writes succeeded after the peer stopped reading");
  },
};

async function accept(conn: PeerConnection, what = "acceptStream()"): Promise<DuplexStream> {
  const stream = await within(conn.acceptStream(), what);
  assert.ok(stream, `${what} returned null on an open connection`);
  return stream;
}

/** Writes `text` (then ends the stream's writable half with `close`), releasing the lock. */
async function send(stream: DuplexStream, text: string, options: { close?: boolean } = {}) {
  const writer = stream.writable.getWriter();
  try {
    await within(writer.write(encoder.encode(text)), `writing "${text}"`);
    if (options.close) await within(writer.close(), `closing after "${text}"`);
  } finally {
    writer.releaseLock();
  }
}

async function closeWrite(stream: DuplexStream): Promise<void> {
  await within(stream.writable.close(), "closing a writable");
}

/** Reads exactly `length` bytes as text, releasing the lock. */
async function readText(stream: DuplexStream, length: number): Promise<string> {
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (let n = 0; n < length;) {
      const { value, done } = await within(reader.read(), `reading ${length} bytes`);
      if (done) throw new Error(`the stream ended after ${n} of ${length} bytes`);
      chunks.push(value);
      n += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  return decoder.decode(concat(chunks));
}

/** Reads to the end of the stream, as text. */
async function readAll(stream: DuplexStream): Promise<string> {
  const reader = stream.readable.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { value, done } = await within(reader.read(), "reading to the end");
    if (done) return decoder.decode(concat(chunks));
    chunks.push(value);
  }
}

/** Writes `data` in chunks, then closes the writable. */
async function writeAll(stream: DuplexStream, data: Uint8Array): Promise<void> {
  const writer = stream.writable.getWriter();
  for (let offset = 0; offset < data.length; offset += BULK_CHUNK) {
    await writer.write(data.subarray(offset, offset + BULK_CHUNK));
  }
  await writer.close();
}

/** Reads to the end, expecting exactly `length` bytes; with a BYOB reader if asked and offered. */
async function readBytes(stream: DuplexStream, length: number, byob: boolean): Promise<Uint8Array> {
  const result = new Uint8Array(length);
  let filled = 0;
  const take = (chunk: Uint8Array) => {
    if (filled + chunk.length > length) {
      throw new Error(`more than the ${length} bytes sent arrived`);
    }
    result.set(chunk, filled);
    filled += chunk.length;
  };
  let byobReader: ReadableStreamBYOBReader | undefined;
  try {
    if (byob) byobReader = stream.readable.getReader({ mode: "byob" });
  } catch { /* not a byte stream: read chunks instead */ }
  if (byobReader) {
    let buffer = new ArrayBuffer(BULK_CHUNK);
    for (;;) {
      const { value, done } = await byobReader.read(new Uint8Array(buffer));
      if (done || !value) break;
      take(value);
      buffer = value.buffer as ArrayBuffer;
    }
  } else {
    const reader = stream.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      take(value);
    }
  }
  assert.equal(filled, length, `the stream ended after ${filled} of ${length} bytes`);
  return result;
}

/** Sends `payload` every 100 ms (datagrams may be lost) until `to` reads one. */
async function deliverDatagram(from: PeerConnection, to: PeerConnection, payload: Uint8Array) {
  let received: Uint8Array | null | undefined;
  const reading = to.readDatagram().then((datagram) => received = datagram);
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (received === undefined) {
    if (Date.now() > deadline) throw new Error(`no datagram arrived within ${STEP_TIMEOUT_MS} ms`);
    await within(from.sendDatagram(payload), "sendDatagram()");
    await settlesWithin(reading, 100);
  }
  assert.ok(received, "readDatagram() returned null on an open connection");
  return received;
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  // getRandomValues() fills at most 65,536 bytes per call.
  for (let offset = 0; offset < length; offset += 65_536) {
    crypto.getRandomValues(bytes.subarray(offset, offset + 65_536));
  }
  return bytes;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new Error(`${label}: bytes differ from offset ${i}`);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Never rejects: the outcome of `promise` as data (so a rejection is never unhandled). */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
}

/** Whether `promise` settles within `ms`, without leaving a timer behind. */
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

/** Resolves with `promise`, or rejects naming `what` when it takes longer than `ms`. */
async function within<T>(
  promise: Promise<T>,
  what: string,
  ms: number = STEP_TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
