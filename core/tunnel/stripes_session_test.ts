// A client's stripes as the server meets them: the honest way (a bulk echo spread over
// four streams) and the ways a hostile or broken client could try to confuse it.
import assert from "node:assert/strict";
import type { DuplexStream, PeerConnection } from "../transport/mod.ts";
import { connect, echoDialer, serverOptions, TOKEN } from "./_session_fixtures.ts";
import { openClientSession } from "./client_session.ts";
import { FramedStream } from "./framed_stream.ts";
import { encodeSegmentHeader, MAX_STRIPES, SEGMENT_HEADER_BYTES } from "./segments.ts";
import { parseSource } from "./source.ts";

function segment(next: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(SEGMENT_HEADER_BYTES + data.length);
  encodeSegmentHeader(out, { next, length: data.length });
  out.set(data, SEGMENT_HEADER_BYTES);
  return out;
}

/** Opens a stream whose first message is `first`; resolves with the framed stream. */
async function openWith(
  conn: PeerConnection,
  first: { type: "tcp-open"; pipeId: number } | {
    type: "tcp-stripe";
    pipeId: number;
    index: number;
  },
) {
  const framed = new FramedStream(await conn.openStream());
  await framed.write(first);
  return framed;
}

/** True when the stream ends (reset or finished) within `ms` without data. */
async function endsWithoutData(stream: DuplexStream, ms = 2_000): Promise<boolean> {
  const reader = stream.readable.getReader();
  const timer = new Promise<"open">((resolve) => setTimeout(() => resolve("open"), ms));
  try {
    const outcome = await Promise.race([
      reader.read().then((r) => (r.done ? "ended" : "data"), () => "ended"),
      timer,
    ]);
    return outcome === "ended";
  } finally {
    reader.releaseLock();
  }
}

/** The payload bytes of a chain of segments across `stripes`, in chain order, to its end. */
async function readChain(stripes: DuplexStream[]): Promise<number[]> {
  const readers = stripes.map((s) => s.readable.getReader());
  const pending = stripes.map(() => new Uint8Array(0));
  const take = async (index: number, n: number) => {
    while (pending[index].length < n) {
      const { value, done } = await readers[index].read();
      if (done) return undefined;
      pending[index] = new Uint8Array([...pending[index], ...value]);
    }
    const out = pending[index].subarray(0, n);
    pending[index] = pending[index].subarray(n);
    return out;
  };
  const echoed: number[] = [];
  for (let current = 0;;) {
    const header = await take(current, SEGMENT_HEADER_BYTES);
    if (!header) return echoed;
    const length = (header[1] << 16) | (header[2] << 8) | header[3];
    echoed.push(...(await take(current, length))!);
    current = header[0];
  }
}

async function session(stripeWaitMs?: number) {
  const { client, served } = connect(serverOptions(echoDialer().dialer, {}, { stripeWaitMs }));
  const opened = await openClientSession(client, TOKEN, parseSource("tcp://127.0.0.1:22"));
  return { client, served, conn: opened.conn };
}

Deno.test("server: stripes join their connection and the echo comes back in order across them", async () => {
  const { client, served, conn } = await session();
  const primary = await openWith(conn, { type: "tcp-open", pipeId: 41 });
  assert.deepEqual(await primary.read(), { type: "tcp-result", connected: true, reason: "" });
  const stripes: DuplexStream[] = [primary.release().stream];
  for (let index = 1; index < MAX_STRIPES; index++) {
    stripes.push(
      (await openWith(conn, { type: "tcp-stripe", pipeId: 41, index })).release().stream,
    );
  }
  // Ten segments round-robin over the four stripes, then every stripe finished.
  const writers = stripes.map((s) => s.writable.getWriter());
  for (let i = 0; i < 10; i++) {
    await writers[i % MAX_STRIPES].write(segment((i + 1) % MAX_STRIPES, Uint8Array.of(i)));
  }
  await Promise.all(writers.map((w) => w.close()));
  // The server's echo is itself striped: follow its chain.
  const echoed = await readChain(stripes);
  assert.deepEqual(echoed, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  client.close();
  await served;
});

Deno.test("server: a stripe that arrives before its connection's TcpOpen waits for it and joins", async () => {
  const { client, served, conn } = await session();
  // The order a lost datagram can bring: stripe 1's stream is read before stream 0's header.
  const early = (await openWith(conn, { type: "tcp-stripe", pipeId: 8, index: 1 })).release();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const primary = await openWith(conn, { type: "tcp-open", pipeId: 8 });
  assert.deepEqual(await primary.read(), { type: "tcp-result", connected: true, reason: "" });
  const { stream } = primary.release();
  // A chain that goes through the early stripe: 1 on stripe 0, then 2 on stripe 1.
  const writer = stream.writable.getWriter();
  const earlyWriter = early.stream.writable.getWriter();
  await writer.write(segment(1, Uint8Array.of(1)));
  await earlyWriter.write(segment(0, Uint8Array.of(2)));
  await Promise.all([writer.close(), earlyWriter.close()]);
  // The echo's chain alternates over both stripes: collect the payload bytes in order.
  const echoed = await readChain([stream, early.stream]);
  assert.deepEqual(echoed, [1, 2]);
  client.close();
  await served;
});

Deno.test("server: a stripe of no open connection (after the wait), a repeated index or an index out of range is reset; the session goes on", async () => {
  const { client, served, conn } = await session(200);
  const unknown = await openWith(conn, { type: "tcp-stripe", pipeId: 999, index: 1 });
  assert.ok(await endsWithoutData(unknown.release().stream), "stripe of an unknown connection");
  const primary = await openWith(conn, { type: "tcp-open", pipeId: 5 });
  assert.equal((await primary.read())?.type, "tcp-result");
  const first = await openWith(conn, { type: "tcp-stripe", pipeId: 5, index: 1 });
  const again = await openWith(conn, { type: "tcp-stripe", pipeId: 5, index: 1 });
  assert.ok(await endsWithoutData(again.release().stream), "a repeated index");
  for (const index of [0, MAX_STRIPES, 255]) {
    const bad = await openWith(conn, { type: "tcp-stripe", pipeId: 5, index });
    assert.ok(await endsWithoutData(bad.release().stream), `index ${index}`);
  }
  const twice = await openWith(conn, { type: "tcp-open", pipeId: 5 });
  assert.ok(await endsWithoutData(twice.release().stream), "a connection id already open");
  // The honest connection is untouched: a segment on stripe 0 comes back.
  const { stream } = primary.release();
  const writer = stream.writable.getWriter();
  await writer.write(segment(0, Uint8Array.of(7, 7)));
  const reader = stream.readable.getReader();
  const { value } = await reader.read();
  // Its header names stripe 1 (which joined) as next: only the length and bytes are fixed.
  assert.deepEqual([...value!.subarray(1)], [0, 0, 2, 7, 7]);
  first.abort();
  client.close();
  await served;
});
