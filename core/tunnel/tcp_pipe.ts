/**
 * Joins a local TCP connection to its stripes (the tunnel streams that carry it),
 * both directions, with half-close carried across and bounded buffering.
 * @module
 */
import type { ByteConn } from "./dialer.ts";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  MAX_SEGMENT,
  SEGMENT_HEADER_BYTES,
} from "./segments.ts";
import type { SessionStats } from "./session_stats.ts";
import { ProtocolError } from "./messages.ts";
import type { StripeSet } from "./stripe_set.ts";
import { StripeReader } from "./stripe_reader.ts";

/**
 * Bytes a connection moves (both directions together) before the opener asks
 * for more stripes. A transfer that big is bulk, and at every round trip over
 * ~10 ms it is past what one stream's window carries per round trip; short
 * exchanges (a web request, an interactive session) keep one stream.
 */
export const STRIPE_AFTER_BYTES = 512 * 1024;

/** Bytes moved by a finished pipe. */
export interface PipeTotals {
  /** From the TCP side into the stripes. */
  sent: number;
  /** From the stripes out to the TCP side. */
  received: number;
}

/** Options of {@linkcode pipeTcpToStripes}. */
export interface PipeOptions {
  /** Bytes of stripe 0 already read past a header, read first. */
  initial?: Uint8Array;
  /**
   * Settles once stripe 0 may be read: with the bytes read past a header that
   * came first, or rejected when the peer refused the connection, which tears
   * both sides down. Data from `tcp` flows meanwhile, so a header costs no round trip.
   */
  opened?: Promise<Uint8Array>;
  /** The session's live counters, added to as bytes move (and the connection counted). */
  stats?: SessionStats;
  /**
   * Called when the connection has moved {@linkcode STRIPE_AFTER_BYTES}: the side that
   * opened the connection opens more stripes and adds them to the set, and returns true;
   * false asks to be called again after another {@linkcode STRIPE_AFTER_BYTES}.
   */
  grow?: () => boolean;
}

/**
 * Copies `tcp` ⇄ the stripes of `stripes` until both directions have ended.
 * Each direction is a chain of segments (segments.ts) across the stripes, so
 * bytes come out in order whichever stripe carried them. EOF on one side
 * becomes a half-close on the other (TCP FIN ⇄ FIN on every stripe); an error
 * on either side tears everything down. At most two segments are in flight
 * from `tcp`, so a connection holds three 64 KiB buffers of our memory. Closes `tcp` and the set when done; never throws.
 */
export async function pipeTcpToStripes(
  tcp: ByteConn,
  stripes: StripeSet,
  options: PipeOptions = {},
): Promise<PipeTotals> {
  const totals: PipeTotals = { sent: 0, received: 0 };
  const stats = options.stats;
  if (stats) stats.tcpConnections++;
  const writers: (WritableStreamDefaultWriter<Uint8Array> | undefined)[] = [];
  const readers: (StripeReader | undefined)[] = [];
  let failed = false;
  let upstreamDone = false;
  let downstreamDone = false;
  let growAt = options.grow ? STRIPE_AFTER_BYTES : Infinity;

  const writerOf = (index: number) =>
    writers[index] ??= stripes.stripes[index]!.writable.getWriter();
  const stopReading = (index: number) => {
    const reader = readers[index];
    if (reader) reader.cancel().catch(() => {});
    else stripes.stripes[index]?.readable.cancel().catch(() => {});
  };
  const abortAll = () => {
    if (failed) return;
    failed = true;
    stripes.close();
    stripes.stripes.forEach((stripe, index) => {
      if (!stripe) return;
      (writers[index] ? writers[index].abort() : stripe.writable.abort()).catch(() => {});
      stopReading(index);
    });
    try {
      tcp.close();
    } catch { /* already closed */ }
  };
  // A stripe that joins after a direction has ended gets that direction's end at once.
  stripes.onJoin((_index, stripe) => {
    if (upstreamDone) stripe.writable.close().catch(() => {});
    if (downstreamDone) stripe.readable.cancel().catch(() => {});
  });
  const moved = () => {
    const total = totals.sent + totals.received;
    if (total < growAt) return;
    growAt = options.grow!() ? Infinity : total + STRIPE_AFTER_BYTES;
  };

  const upstream = (async () => {
    // Two buffers in turn: one is read into while the other's write hands its bytes
    // to the transport, whichever stripes they go to. The memory a connection holds
    // stays at three segments (two up, one down) however many stripes it has.
    const buffers = [0, 1].map(() => ({
      bytes: new Uint8Array(SEGMENT_HEADER_BYTES + MAX_SEGMENT),
      pending: undefined as Promise<void> | undefined,
    }));
    let current = 0;
    let turn = 0;
    try {
      for (;;) {
        const buffer = buffers[turn];
        turn ^= 1;
        if (buffer.pending) await buffer.pending;
        if (failed) return;
        const n = await tcp.read(buffer.bytes.subarray(SEGMENT_HEADER_BYTES));
        if (n === null) break;
        totals.sent += n;
        if (stats) stats.sent += n;
        const next = nextStripe(stripes, current);
        encodeSegmentHeader(buffer.bytes, { next, length: n });
        buffer.pending = writerOf(current)
          .write(buffer.bytes.subarray(0, SEGMENT_HEADER_BYTES + n))
          .catch(abortAll);
        current = next;
        moved();
      }
      await Promise.all(buffers.map((buffer) => buffer.pending));
      if (failed) return;
      upstreamDone = true;
      await Promise.all(
        stripes.stripes.map((stripe, index) =>
          stripe ? writerOf(index).close().catch(() => {}) : undefined
        ),
      );
    } catch {
      abortAll();
    }
  })();

  const downstream = (async () => {
    try {
      const initial = options.opened ? await options.opened : options.initial;
      if (failed) return;
      let header: Uint8Array = new Uint8Array(SEGMENT_HEADER_BYTES);
      let payload: Uint8Array = new Uint8Array(MAX_SEGMENT + SEGMENT_HEADER_BYTES);
      let current = 0;
      for (;;) {
        const reader = readers[current] ??= new StripeReader(
          (await stripes.get(current)).readable,
          current === 0 ? initial : stripes.prefixOf(current),
        );
        const head = await reader.fill(header);
        header = head.view;
        if (head.filled === 0) break;
        if (head.filled < SEGMENT_HEADER_BYTES) throw new ProtocolError("stripe ended mid-header");
        const { next, length } = decodeSegmentHeader(header);
        // The payload goes out as it arrives; each read also asks for the next header.
        for (let remaining = length; remaining > 0;) {
          const part = await reader.readUpTo(payload, remaining, SEGMENT_HEADER_BYTES);
          payload = part.view;
          if (part.filled === 0) throw new ProtocolError("stripe ended mid-segment");
          remaining -= part.filled;
          totals.received += part.filled;
          if (stats) stats.received += part.filled;
          await writeAll(tcp, payload.subarray(0, part.filled));
        }
        current = next;
        moved();
      }
      downstreamDone = true;
      // The peer ended every stripe after its last segment: nothing more will come.
      stripes.stripes.forEach((_, index) => stopReading(index));
      await tcp.closeWrite();
    } catch {
      abortAll();
    }
  })();

  await Promise.all([upstream, downstream]);
  if (stats) stats.tcpConnections--;
  stripes.close();
  try {
    tcp.close();
  } catch { /* closed by abortAll */ }
  return totals;
}

/** The stripe after `current` in index order among those present, wrapping to 0. */
function nextStripe(stripes: StripeSet, current: number): number {
  const held = stripes.stripes;
  for (let index = current + 1; index < held.length; index++) if (held[index]) return index;
  return 0;
}

async function writeAll(conn: ByteConn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}
