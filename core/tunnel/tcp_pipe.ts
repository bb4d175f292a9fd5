/**
 * Joins a local TCP connection to a tunnel stream, both directions, with
 * half-close carried across and bounded buffering.
 * @module
 */
import type { DuplexStream } from "../transport/mod.ts";

/**
 * Bytes read per TCP read. 64 KiB matches QUIC's typical stream write size; with
 * at most one chunk in flight per direction, a slow reader holds each connection
 * to about 128 KiB of our memory on top of the transport's own windows.
 */
const CHUNK_SIZE = 64 * 1024;

/** Bytes moved by a finished pipe. */
export interface PipeTotals {
  /** From the TCP side into the stream. */
  sent: number;
  /** From the stream out to the TCP side. */
  received: number;
}

/**
 * Copies `tcp` ⇄ `stream` until both directions have ended. EOF on one side
 * becomes a half-close on the other (TCP FIN ⇄ QUIC FIN); an error on either
 * side tears both down. `initial` is stream data already read past a header.
 * Closes `tcp` when done; never throws.
 */
export async function pipeTcpToStream(
  tcp: Deno.TcpConn,
  stream: DuplexStream,
  initial?: Uint8Array,
): Promise<PipeTotals> {
  const totals: PipeTotals = { sent: 0, received: 0 };
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let failed = false;
  const abortBoth = () => {
    if (failed) return;
    failed = true;
    writer.abort().catch(() => {});
    reader.cancel().catch(() => {});
    try {
      tcp.close();
    } catch { /* already closed */ }
  };

  const upstream = (async () => {
    try {
      for (;;) {
        // A fresh buffer per read: the stream may still hold the previous chunk.
        const buffer = new Uint8Array(CHUNK_SIZE);
        const n = await tcp.read(buffer);
        if (n === null) break;
        totals.sent += n;
        await writer.write(buffer.subarray(0, n));
      }
      await writer.close();
    } catch {
      abortBoth();
    }
  })();

  const downstream = (async () => {
    try {
      if (initial && initial.length > 0) {
        totals.received += initial.length;
        await writeAll(tcp, initial);
      }
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        totals.received += value.length;
        await writeAll(tcp, value);
      }
      await tcp.closeWrite();
    } catch {
      abortBoth();
    }
  })();

  await Promise.all([upstream, downstream]);
  try {
    tcp.close();
  } catch { /* closed by abortBoth */ }
  return totals;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}
