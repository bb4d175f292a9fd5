/**
 * The two variable-length integers of iroh's relay frames (private to core/relay).
 *
 * - The frame type is a QUIC varint (RFC 9000 §16): the top two bits of the first
 *   byte give the length (1, 2, 4 or 8 bytes), the rest is the big-endian value.
 * - Lengths inside handshake frames are postcard's: unsigned LEB128, 7 bits a byte,
 *   least significant first, at most 10 bytes for a 64-bit value.
 *
 * Decoders accept non-minimal encodings, as the Rust decoders iroh uses do.
 * @module
 */

/** A decoded integer and the offset just after it. */
export type Decoded = { value: number; end: number };

/** Writes `value` (0..63, all frame types are) as a one-byte QUIC varint. */
export function quicVarintByte(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 63) {
    throw new RangeError(`Cannot encode varint: ${value} needs more than one byte`);
  }
  return value;
}

/**
 * Reads a QUIC varint at `offset`. Values past 2^53 lose precision, which cannot
 * turn them into a small value, so an unknown type stays unknown.
 */
export function readQuicVarint(bytes: Uint8Array, offset: number): Decoded | undefined {
  if (offset >= bytes.length) return undefined;
  const length = 1 << (bytes[offset] >> 6);
  if (offset + length > bytes.length) return undefined;
  let value = bytes[offset] & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + i];
  return { value, end: offset + length };
}

/** Number of bytes {@linkcode writeLeb128} writes for `value`. */
export function leb128Length(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}

/** Writes `value` (a non-negative safe integer) as minimal LEB128 at `offset`; returns the end. */
export function writeLeb128(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[offset++] = value;
  return offset;
}

// postcard reads at most this many bytes for a 64-bit length before it gives up.
const MAX_LEB128_BYTES = 10;

/**
 * Reads a LEB128 length at `offset`. Returns undefined when the input ends early
 * and null when the encoding runs past {@linkcode MAX_LEB128_BYTES} bytes.
 */
export function readLeb128(bytes: Uint8Array, offset: number): Decoded | undefined | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_LEB128_BYTES; i++) {
    if (offset + i >= bytes.length) return undefined;
    const byte = bytes[offset + i];
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, end: offset + i + 1 };
    scale *= 0x80;
  }
  return null;
}
