/**
 * RFC 4648 base32, lowercase, without padding: the way iroh prints an EndpointId.
 * @module
 */

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const LOOKUP: Record<string, number> = Object.fromEntries(
  [...ALPHABET].map((char, index) => [char, index]),
);

/**
 * Encodes bytes as unpadded base32, most significant bit first: RFC 4648's
 * lowercase alphabet by default, or another 32-character alphabet (z-base-32).
 */
export function encodeBase32(bytes: Uint8Array, alphabet: string = ALPHABET): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += alphabet[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Decodes unpadded base32 (either case).
 * @throws {TypeError} on a character outside the alphabet or non-zero trailing bits.
 */
export function decodeBase32(text: string): Uint8Array {
  const lower = text.toLowerCase();
  const out = new Uint8Array(Math.floor((lower.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of lower) {
    const value = LOOKUP[char];
    if (value === undefined) {
      throw new TypeError(`Cannot decode base32: invalid character '${char}'`);
    }
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >>> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  // Leftover bits must be zero, otherwise two texts would decode to the same key.
  if (buffer !== 0) throw new TypeError("Cannot decode base32: non-canonical trailing bits");
  return out;
}
