/**
 * Bencoding (BEP 3) as the DHT speaks it: byte strings, integers, lists and
 * dictionaries. Strict both ways: the encoder writes canonical bytes (sorted,
 * unique keys; no leading zeros), and the decoder accepts only canonical bytes
 * and stops at its limits, so a value decodes to one form and re-encodes to the
 * same bytes (BEP 44 signs the encoding of `v`).
 * @module
 */
import { concatBytes } from "./_concat_bytes.ts";

/** A decoded value: a byte string, an integer, a list or a dictionary. */
export type BencodeValue = Uint8Array | bigint | BencodeValue[] | BencodeDict;

/**
 * A dictionary. Keys are byte strings held as "binary" strings (one character
 * per byte, 0 to 255), so any key survives a round trip and JavaScript's string
 * order is the byte order the encoding sorts by.
 */
export type BencodeDict = Map<string, BencodeValue>;

/** Limits a decoder applies; each protects the decoder from hostile input. */
export interface BencodeLimits {
  /** Longest input in bytes. */
  maxBytes: number;
  /** Deepest nesting of lists and dictionaries. */
  maxDepth: number;
  /** Most values (of every kind, nested ones included) in one input. */
  maxItems: number;
}

/** Limits for one KRPC datagram: larger than any message we send or accept. */
export const DEFAULT_BENCODE_LIMITS: Readonly<BencodeLimits> = {
  maxBytes: 2048,
  maxDepth: 16,
  maxItems: 512,
};

/** Input that is not canonical bencoding, or exceeds a limit. */
export class BencodeError extends Error {
  /** Always "BencodeError". */
  override name = "BencodeError";
}

const BYTE_0 = 0x30;
const BYTE_9 = 0x39;
const BYTE_COLON = 0x3a;
const BYTE_D = 0x64;
const BYTE_E = 0x65;
const BYTE_I = 0x69;
const BYTE_L = 0x6c;
const textEncoder = new TextEncoder();

/** Converts bytes to a dictionary key (one character per byte). */
export function bytesToKey(bytes: Uint8Array): string {
  let key = "";
  for (const byte of bytes) key += String.fromCharCode(byte);
  return key;
}

/** Converts a dictionary key back to its bytes. */
export function keyToBytes(key: string): Uint8Array {
  const bytes = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0xff) throw new BencodeError(`Cannot encode key: character ${code} is not a byte`);
    bytes[i] = code;
  }
  return bytes;
}

/**
 * Encodes a value canonically.
 *
 * @throws {BencodeError} when a dictionary key is not a binary string.
 * @example
 * ```ts
 * encodeBencode(new Map([["a", 1n]])); // bytes of "d1:ai1ee"
 * ```
 */
export function encodeBencode(value: BencodeValue): Uint8Array {
  const parts: Uint8Array[] = [];
  writeValue(value, parts);
  return concatBytes(parts);
}

function writeValue(value: BencodeValue, parts: Uint8Array[]): void {
  if (value instanceof Uint8Array) {
    parts.push(textEncoder.encode(`${value.length}:`), value);
  } else if (typeof value === "bigint") {
    parts.push(textEncoder.encode(`i${value}e`));
  } else if (Array.isArray(value)) {
    parts.push(Uint8Array.of(BYTE_L));
    for (const item of value) writeValue(item, parts);
    parts.push(Uint8Array.of(BYTE_E));
  } else {
    parts.push(Uint8Array.of(BYTE_D));
    // Map keys are unique; sorting by code unit is sorting by byte.
    for (const key of [...value.keys()].sort()) {
      const keyBytes = keyToBytes(key);
      parts.push(textEncoder.encode(`${keyBytes.length}:`), keyBytes);
      writeValue(value.get(key)!, parts);
    }
    parts.push(Uint8Array.of(BYTE_E));
  }
}

/**
 * Decodes exactly one canonical value filling the whole input.
 *
 * @param input The bytes.
 * @param limits Size, depth and item limits; default {@linkcode DEFAULT_BENCODE_LIMITS}.
 * @throws {BencodeError} for anything else: trailing bytes, truncation, a
 *   non-canonical integer or length, unsorted or repeated keys, a limit exceeded.
 * @example
 * ```ts
 * const value = decodeBencode(new TextEncoder().encode("li1e3:abce"));
 * ```
 */
export function decodeBencode(
  input: Uint8Array,
  limits: Readonly<BencodeLimits> = DEFAULT_BENCODE_LIMITS,
): BencodeValue {
  if (input.length > limits.maxBytes) {
    throw new BencodeError(
      `Cannot decode bencode: ${input.length} bytes exceeds the limit of ${limits.maxBytes}`,
    );
  }
  const reader = new Reader(input, limits);
  const value = reader.value(0);
  if (reader.offset !== input.length) {
    throw new BencodeError(
      `Cannot decode bencode: ${input.length - reader.offset} trailing bytes after the value`,
    );
  }
  return value;
}

class Reader {
  offset = 0;
  #items = 0;
  constructor(readonly input: Uint8Array, readonly limits: Readonly<BencodeLimits>) {}

  value(depth: number): BencodeValue {
    if (++this.#items > this.limits.maxItems) {
      throw new BencodeError(
        `Cannot decode bencode: more than ${this.limits.maxItems} values`,
      );
    }
    const byte = this.peek();
    if (byte === BYTE_I) return this.integer();
    if (byte >= BYTE_0 && byte <= BYTE_9) return this.bytes();
    if (byte === BYTE_L || byte === BYTE_D) {
      if (depth >= this.limits.maxDepth) {
        throw new BencodeError(
          `Cannot decode bencode: nesting deeper than ${this.limits.maxDepth}`,
        );
      }
      this.offset++;
      return byte === BYTE_L ? this.list(depth + 1) : this.dict(depth + 1);
    }
    throw new BencodeError(
      `Cannot decode bencode: unexpected byte 0x${byte.toString(16)} at ${this.offset}`,
    );
  }

  peek(): number {
    if (this.offset >= this.input.length) {
      throw new BencodeError("Cannot decode bencode: input ends inside a value");
    }
    return this.input[this.offset];
  }

  integer(): bigint {
    this.offset++; // "i"
    const start = this.offset;
    const end = this.input.indexOf(BYTE_E, start);
    if (end < 0) throw new BencodeError("Cannot decode bencode: integer without its end");
    const text = this.ascii(start, end);
    // Canonical only: no leading zeros, no "-0", no sign but "-".
    if (!/^(0|-?[1-9][0-9]*)$/.test(text) || text.length > 21) {
      throw new BencodeError(`Cannot decode bencode: invalid integer at ${start}`);
    }
    this.offset = end + 1;
    return BigInt(text);
  }

  bytes(): Uint8Array {
    const start = this.offset;
    const colon = this.input.indexOf(BYTE_COLON, start);
    if (colon < 0 || colon - start > 10) {
      throw new BencodeError(`Cannot decode bencode: invalid string length at ${start}`);
    }
    const text = this.ascii(start, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(text)) {
      throw new BencodeError(`Cannot decode bencode: invalid string length at ${start}`);
    }
    const length = Number(text);
    if (colon + 1 + length > this.input.length) {
      throw new BencodeError("Cannot decode bencode: string runs past the end of the input");
    }
    this.offset = colon + 1 + length;
    return this.input.slice(colon + 1, this.offset);
  }

  list(depth: number): BencodeValue[] {
    const items: BencodeValue[] = [];
    while (this.peek() !== BYTE_E) items.push(this.value(depth));
    this.offset++;
    return items;
  }

  dict(depth: number): BencodeDict {
    const dict: BencodeDict = new Map();
    let previous: string | undefined;
    while (this.peek() !== BYTE_E) {
      const byte = this.peek();
      if (byte < BYTE_0 || byte > BYTE_9) {
        throw new BencodeError(
          `Cannot decode bencode: dictionary key is not a string at ${this.offset}`,
        );
      }
      const key = bytesToKey(this.bytes());
      if (previous !== undefined && key <= previous) {
        throw new BencodeError(
          `Cannot decode bencode: dictionary keys unsorted or repeated at ${this.offset}`,
        );
      }
      previous = key;
      dict.set(key, this.value(depth));
    }
    this.offset++;
    return dict;
  }

  ascii(start: number, end: number): string {
    let text = "";
    for (let i = start; i < end; i++) text += String.fromCharCode(this.input[i]);
    return text;
  }
}
