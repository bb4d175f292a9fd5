/**
 * z-base-32: the encoding pkarr uses to put a 32-byte Ed25519 key into URLs and
 * DNS names (`_iroh.<z32>.dns.iroh.link`).
 *
 * Same bit order as RFC 4648 base32 (most significant bit first, no padding),
 * with Zimmermann's alphabet. Not to be confused with how an EndpointId is
 * printed (lowercase RFC 4648 base32, see `core/identity`): the same key reads
 * differently in the two.
 * @module
 */
import { encodeBase32, EndpointId } from "../identity/mod.ts";

/** The z-base-32 alphabet, in value order. */
const ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769";
const VALUES: Record<string, number> = Object.fromEntries(
  [...ALPHABET].map((char, index) => [char, index]),
);

/** Characters in the z-base-32 form of a 32-byte key. */
export const Z32_KEY_LENGTH = 52;

/**
 * Encodes bytes as z-base-32 (no padding).
 *
 * @param bytes Any bytes; a 32-byte key gives 52 characters.
 * @returns the text, lowercase.
 * @example
 * ```ts
 * encodeZ32(new Uint8Array([0xff])); // "9h"
 * ```
 */
export function encodeZ32(bytes: Uint8Array): string {
  return encodeBase32(bytes, ALPHABET);
}

/**
 * Decodes z-base-32 strictly: only the lowercase alphabet, only lengths an
 * encoder can produce, and zero trailing bits, so each byte string has exactly
 * one text form (as iroh's decoder demands).
 *
 * @param text The text, e.g. a key from a pkarr URL.
 * @returns the bytes.
 * @throws {TypeError} "Cannot decode z-base-32: <why>", naming the character and its index.
 * @example
 * ```ts
 * decodeZ32("9h"); // Uint8Array [255]
 * ```
 */
export function decodeZ32(text: string): Uint8Array {
  const fail = (why: string) => new TypeError(`Cannot decode z-base-32: ${why}`);
  // n characters carry 5n bits; 5, 6 or 7 bits left over would be a character no
  // encoder writes (lengths 1, 3, 6 modulo 8).
  if ([1, 3, 6].includes(text.length % 8)) {
    throw fail(`${text.length} characters is not a length an encoder produces`);
  }
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const value = VALUES[text[i]];
    if (value === undefined) {
      const shown = JSON.stringify(String.fromCodePoint(text.codePointAt(i)!));
      const hint = /[A-Z]/.test(text[i]) ? " (z-base-32 is lowercase)" : "";
      throw fail(`invalid character ${shown} at index ${i}${hint}`);
    }
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >>> bits) & 0xff;
    }
    buffer &= (1 << bits) - 1;
  }
  if (buffer !== 0) throw fail("non-zero trailing bits (not the canonical form)");
  return out;
}

/**
 * The z-base-32 form of an EndpointId, as pkarr URLs and DNS names carry it.
 *
 * @example
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * endpointIdToZ32(SecretKey.generate().endpointId).length; // 52
 * ```
 */
export function endpointIdToZ32(endpointId: EndpointId): string {
  return encodeZ32(endpointId.bytes);
}

/**
 * Parses a key given as 52 z-base-32 characters.
 *
 * @throws {TypeError} "Cannot decode z-base-32 key: <why>".
 * @example
 * ```ts
 * const id = endpointIdFromZ32("dgjpkxyn3zyrk3zfads5duwdgbqpkwbjxfj4yt7rezidr3fijccy");
 * id.toHex(); // "1992d53c02cdc04566e5c0edb1ce83305cd550297953a047a445ea3264b54b18"
 * ```
 */
export function endpointIdFromZ32(text: string): EndpointId {
  if (text.length !== Z32_KEY_LENGTH) {
    throw new TypeError(
      `Cannot decode z-base-32 key: expected ${Z32_KEY_LENGTH} characters, got ${text.length}`,
    );
  }
  try {
    return new EndpointId(decodeZ32(text));
  } catch (error) {
    const why = (error as Error).message.replace(/^Cannot decode z-base-32: /, "");
    throw new TypeError(`Cannot decode z-base-32 key: ${why}`);
  }
}
