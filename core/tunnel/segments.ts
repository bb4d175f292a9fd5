/**
 * The framing of a TCP connection's bytes across its stripes (sans-IO).
 *
 * One forwarded TCP connection may be carried by several QUIC streams, its
 * _stripes_, so that it is not held to one stream's flow-control window (quinn's
 * default, which Deno 2.9 cannot raise, lets one stream carry about 1.2 MB per
 * round trip). Each direction's bytes are cut into segments; every segment
 * header names the stripe the next segment will be on, so the reader follows one
 * chain across the stripes and the bytes come out in order. See docs/PROTOCOL.md.
 * @module
 */
import { ProtocolError } from "./messages.ts";

/** Bytes of a segment header: next stripe (1 byte) and payload length (3 bytes, big-endian). */
export const SEGMENT_HEADER_BYTES = 4;
/**
 * Largest segment payload: one TCP read. A bound, so a reader never holds more
 * than one segment of a connection in its own memory.
 */
export const MAX_SEGMENT = 64 * 1024;
/**
 * Stripes per connection, the first included. Four stripes carry four windows
 * (about 4.8 MB) per round trip: 60 MB/s at 80 ms, 32 MB/s at 150 ms, more than
 * the paths measured in docs/BENCHMARKS.md carry, while a connection's share of
 * the 1,024 streams a peer may hold stays small.
 */
export const MAX_STRIPES = 4;

/** A decoded segment header. */
export interface SegmentHeader {
  /** Index of the stripe the next segment is on (0 is the connection's first stream). */
  next: number;
  /** Payload bytes that follow the header. */
  length: number;
}

/**
 * Writes a segment header into the first {@linkcode SEGMENT_HEADER_BYTES} of `into`.
 * @throws {RangeError} when `next` or `length` is out of range.
 */
export function encodeSegmentHeader(into: Uint8Array, header: SegmentHeader): void {
  const { next, length } = header;
  if (!Number.isInteger(next) || next < 0 || next >= MAX_STRIPES) {
    throw new RangeError(
      `Cannot encode a segment header: stripe ${next} (0 to ${MAX_STRIPES - 1})`,
    );
  }
  if (!Number.isInteger(length) || length < 1 || length > MAX_SEGMENT) {
    throw new RangeError(`Cannot encode a segment header: length ${length} (1 to ${MAX_SEGMENT})`);
  }
  into[0] = next;
  into[1] = length >> 16;
  into[2] = (length >> 8) & 0xff;
  into[3] = length & 0xff;
}

/**
 * Reads a segment header from the first {@linkcode SEGMENT_HEADER_BYTES} of `bytes`.
 * @throws {ProtocolError} on a stripe index or length out of range (a hostile or broken peer).
 */
export function decodeSegmentHeader(bytes: Uint8Array): SegmentHeader {
  if (bytes.length < SEGMENT_HEADER_BYTES) throw new ProtocolError("truncated segment header");
  const next = bytes[0];
  const length = (bytes[1] << 16) | (bytes[2] << 8) | bytes[3];
  if (next >= MAX_STRIPES) {
    throw new ProtocolError(`segment names stripe ${next} (at most ${MAX_STRIPES - 1})`);
  }
  if (length < 1 || length > MAX_SEGMENT) {
    throw new ProtocolError(`segment of ${length} bytes (1 to ${MAX_SEGMENT})`);
  }
  return { next, length };
}
