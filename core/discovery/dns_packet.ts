/**
 * A minimal DNS message codec (RFC 1035), enough for pkarr packets: writes a
 * response holding answer records, reads any well-formed message of at most
 * {@linkcode MAX_DNS_PACKET_SIZE} bytes.
 *
 * Names are text with labels joined by dots and no trailing dot; the root is
 * `"."`. A label byte outside printable ASCII, a dot or a backslash inside a
 * label reads as `\DDD` (RFC 1035 presentation form), so one text always means
 * one name. RDATA is kept as on the wire: names inside it are not expanded.
 * @module
 */

/** Largest DNS packet pkarr carries (BEP 44 values are at most 1000 bytes). */
export const MAX_DNS_PACKET_SIZE = 1000;
/** Record type TXT. */
export const DNS_TYPE_TXT = 16;
/** Class IN. */
export const DNS_CLASS_IN = 1;

/** One resource record. */
export interface DnsRecord {
  /** Owner name, e.g. `"_iroh.<z32>"`. */
  name: string;
  /** Record type, e.g. {@linkcode DNS_TYPE_TXT}. */
  type: number;
  /** Record class, e.g. {@linkcode DNS_CLASS_IN}. */
  class: number;
  /** Time to live in seconds (an unsigned 32-bit number). */
  ttl: number;
  /** RDATA as on the wire. */
  data: Uint8Array;
}

/** One entry of the question section. */
export interface DnsQuestion {
  /** The name asked about. */
  name: string;
  /** Record type asked for. */
  type: number;
  /** Class asked for. */
  class: number;
}

/** A decoded DNS message. */
export interface DnsMessage {
  /** Message id. */
  id: number;
  /** The 16 flag bits of the header (QR, opcode, AA, TC, RD, RA, rcode). */
  flags: number;
  /** Question section. */
  questions: DnsQuestion[];
  /** Answer section: where pkarr puts its records. */
  answers: DnsRecord[];
  /** Authority section. */
  authorities: DnsRecord[];
  /** Additional section. */
  additionals: DnsRecord[];
}

/** Bytes that are not a well-formed DNS message within the limits. */
export class DnsPacketError extends Error {
  /** Always "DnsPacketError". */
  override name = "DnsPacketError";
}

const HEADER_SIZE = 12;
/** QR set, opcode QUERY, rcode NOERROR: what iroh's DNS library writes for a reply. */
const RESPONSE_FLAGS = 0x8000;
/** The header bit RFC 1035 reserves (Z); iroh's DNS library refuses packets that set it. */
const RESERVED_FLAG = 0x0040;
const MAX_NAME_WIRE_LENGTH = 255;
const MAX_LABEL_LENGTH = 63;
const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a response (id 0, flags QR only) whose answer section holds
 * `answers` in order. Owner names are compressed as iroh's DNS library does:
 * each name suffix written once, later occurrences as a pointer to it.
 *
 * @param answers The records; names are plain labels of printable ASCII.
 * @returns the packet.
 * @throws {TypeError} when a name is empty or has an empty, too long or non-printable label.
 * @throws {RangeError} when a field is out of range or the packet exceeds
 *   {@linkcode MAX_DNS_PACKET_SIZE}.
 * @example
 * ```ts
 * const packet = encodeDnsResponse([
 *   { name: "_iroh.example", type: DNS_TYPE_TXT, class: DNS_CLASS_IN, ttl: 30, data: encodeTxtData(["relay=https://relay.example/"]) },
 * ]);
 * ```
 */
export function encodeDnsResponse(answers: readonly DnsRecord[]): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  const u16 = (value: number, what: string) => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`Cannot encode DNS packet: ${what} ${value} is not a 16-bit number`);
    }
    out.push(value >> 8, value & 0xff);
  };
  u16(0, "id");
  u16(RESPONSE_FLAGS, "flags");
  for (const count of [0, answers.length, 0, 0]) u16(count, "record count");
  const suffixes = new Map<string, number>();
  for (const record of answers) {
    writeName(out, record.name, suffixes);
    u16(record.type, "type");
    u16(record.class, "class");
    if (!Number.isInteger(record.ttl) || record.ttl < 0 || record.ttl > 0xffffffff) {
      throw new RangeError(`Cannot encode DNS packet: TTL ${record.ttl} is not a 32-bit number`);
    }
    out.push(record.ttl >>> 24, (record.ttl >>> 16) & 0xff, (record.ttl >>> 8) & 0xff);
    out.push(record.ttl & 0xff);
    u16(record.data.length, "RDATA length");
    for (const byte of record.data) out.push(byte);
    if (out.length > MAX_DNS_PACKET_SIZE) break;
  }
  if (out.length > MAX_DNS_PACKET_SIZE) {
    throw new RangeError(
      `Cannot encode DNS packet: more than the limit of ${MAX_DNS_PACKET_SIZE} bytes`,
    );
  }
  return Uint8Array.from(out);
}

/** Largest DNS message over TCP (its 2-byte length prefix). */
export const MAX_DNS_TCP_MESSAGE_SIZE = 0xffff;

/**
 * Encodes any message: header, questions and the three record sections, with
 * owner names compressed. Names may hold `\\DDD` escapes as
 * {@linkcode decodeDnsPacket} writes them, so a decoded question encodes back
 * to the same bytes. Unlike {@linkcode encodeDnsResponse}, sizes are bounded
 * by `maxSize` only (a DNS server's answer is not a pkarr packet).
 *
 * @param message The message; `id` and `flags` as sent.
 * @param maxSize Largest packet allowed (at most {@linkcode MAX_DNS_TCP_MESSAGE_SIZE}).
 * @returns the packet.
 * @throws {TypeError} for a name that cannot be encoded.
 * @throws {RangeError} for a field out of range or a packet larger than `maxSize`.
 * @example
 * ```ts
 * const query = encodeDnsMessage({
 *   id: 7, flags: 0x0100, questions: [{ name: "_iroh.example", type: DNS_TYPE_TXT, class: DNS_CLASS_IN }],
 *   answers: [], authorities: [], additionals: [],
 * }, 512);
 * ```
 */
export function encodeDnsMessage(message: DnsMessage, maxSize: number): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  const u16 = (value: number, what: string) => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
      throw new RangeError(`Cannot encode DNS message: ${what} ${value} is not a 16-bit number`);
    }
    out.push(value >> 8, value & 0xff);
  };
  const limit = Math.min(maxSize, MAX_DNS_TCP_MESSAGE_SIZE);
  const overLimit = () =>
    new RangeError(`Cannot encode DNS message: more than the limit of ${limit} bytes`);
  u16(message.id, "id");
  u16(message.flags, "flags");
  const sections = [message.answers, message.authorities, message.additionals];
  for (const count of [message.questions.length, ...sections.map((s) => s.length)]) {
    u16(count, "count");
  }
  const suffixes = new Map<string, number>();
  for (const question of message.questions) {
    writeName(out, question.name, suffixes);
    u16(question.type, "type");
    u16(question.class, "class");
    if (out.length > limit) throw overLimit();
  }
  for (const record of sections.flat()) {
    writeName(out, record.name, suffixes);
    u16(record.type, "type");
    u16(record.class, "class");
    if (!Number.isInteger(record.ttl) || record.ttl < 0 || record.ttl > 0xffffffff) {
      throw new RangeError(`Cannot encode DNS message: TTL ${record.ttl} is not a 32-bit number`);
    }
    out.push(record.ttl >>> 24, (record.ttl >>> 16) & 0xff, (record.ttl >>> 8) & 0xff);
    out.push(record.ttl & 0xff);
    u16(record.data.length, "RDATA length");
    if (out.length + record.data.length > limit) throw overLimit();
    for (const byte of record.data) out.push(byte);
  }
  return Uint8Array.from(out);
}

function writeName(out: number[], name: string, suffixes: Map<string, number>): void {
  if (name === ".") {
    out.push(0);
    return;
  }
  const labels = name.split(".");
  const wire = labels.map((label) => labelBytes(label, name));
  const wireLength = wire.reduce((sum, bytes) => sum + 1 + bytes.length, 1);
  if (wireLength > MAX_NAME_WIRE_LENGTH) {
    throw new TypeError(`Cannot encode DNS name ${JSON.stringify(name)}: longer than 255 bytes`);
  }
  for (let i = 0; i < labels.length; i++) {
    // Keyed as written: a pointer repeats the case too (and pkarr packets stay byte for byte).
    const suffix = labels.slice(i).join(".");
    const offset = suffixes.get(suffix);
    if (offset !== undefined) {
      out.push(0xc0 | (offset >> 8), offset & 0xff);
      return;
    }
    // Pointers hold 14 bits: suffixes written further on are not pointed to.
    if (out.length <= 0x3fff) suffixes.set(suffix, out.length);
    out.push(wire[i].length, ...wire[i]);
  }
  out.push(0);
}

/** A label's bytes: printable ASCII, with `\\DDD` for any other byte, a dot or a backslash. */
function labelBytes(label: string, name: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < label.length; i++) {
    const code = label.charCodeAt(i);
    if (code === 0x5c) {
      const digits = /^[0-9]{3}/.exec(label.slice(i + 1))?.[0];
      if (digits === undefined || Number(digits) > 255) return badName(name);
      bytes.push(Number(digits));
      i += 3;
    } else if (code > 0x20 && code < 0x7f) {
      bytes.push(code);
    } else {
      return badName(name);
    }
  }
  if (bytes.length < 1 || bytes.length > MAX_LABEL_LENGTH) return badName(name);
  return bytes;
}

function badName(name: string): never {
  throw new TypeError(
    `Cannot encode DNS name ${JSON.stringify(name)}: labels must be 1 to ${MAX_LABEL_LENGTH} ` +
      "bytes of printable ASCII, other bytes written \\DDD",
  );
}

/**
 * Encodes TXT RDATA: each string as one character-string (length byte, bytes).
 *
 * @param strings At least one string, each at most 255 bytes of UTF-8.
 * @throws {RangeError} when there is no string or one is longer than 255 bytes.
 * @example
 * ```ts
 * encodeTxtData(["addr=192.0.2.1:4433"]); // Uint8Array [19, 97, 100, ...]
 * ```
 */
export function encodeTxtData(strings: readonly string[]): Uint8Array {
  if (strings.length === 0) throw new RangeError("Cannot encode TXT data: no string");
  const parts = strings.map((text) => {
    const bytes = encoder.encode(text);
    if (bytes.length > 255) {
      throw new RangeError(
        `Cannot encode TXT data: a string of ${bytes.length} bytes exceeds the limit of 255`,
      );
    }
    return bytes;
  });
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 1 + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out[offset] = part.length;
    out.set(part, offset + 1);
    offset += 1 + part.length;
  }
  return out;
}

/**
 * Decodes TXT RDATA into its character-strings.
 *
 * @throws {DnsPacketError} when the strings do not exactly fill the data or are not UTF-8.
 * @example
 * ```ts
 * decodeTxtData(encodeTxtData(["a=b", "c"])); // ["a=b", "c"]
 * ```
 */
export function decodeTxtData(data: Uint8Array): string[] {
  return characterStrings(data).map((bytes) => {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new DnsPacketError("TXT character-string is not UTF-8");
    }
  });
}

/** Splits TXT RDATA into its character-strings, checking they fill it exactly. */
function characterStrings(data: Uint8Array): Uint8Array[] {
  const strings: Uint8Array[] = [];
  for (let offset = 0; offset < data.length;) {
    const end = offset + 1 + data[offset];
    if (end > data.length) throw new DnsPacketError("TXT character-string overruns its RDATA");
    strings.push(data.subarray(offset + 1, end));
    offset = end;
  }
  return strings;
}

/**
 * Decodes a DNS message. Every section is read and checked; compression
 * pointers must point backwards (before the run of labels they end), so no
 * packet can make the reader loop.
 *
 * @param bytes The packet.
 * @returns the message.
 * @throws {DnsPacketError} for anything malformed, truncated, trailing or over the limit;
 *   never another error.
 * @example
 * ```ts
 * const packet = encodeDnsResponse([
 *   { name: "_iroh.example", type: DNS_TYPE_TXT, class: DNS_CLASS_IN, ttl: 30, data: encodeTxtData(["a=b"]) },
 * ]);
 * for (const record of decodeDnsPacket(packet).answers) console.log(record.name, record.ttl); // _iroh.example 30
 * ```
 */
export function decodeDnsPacket(bytes: Uint8Array): DnsMessage {
  if (bytes.length > MAX_DNS_PACKET_SIZE) {
    throw new DnsPacketError(
      `DNS packet of ${bytes.length} bytes exceeds the limit of ${MAX_DNS_PACKET_SIZE}`,
    );
  }
  if (bytes.length < HEADER_SIZE) {
    throw new DnsPacketError(`DNS packet of ${bytes.length} bytes is shorter than its header`);
  }
  const reader = new Reader(bytes);
  const id = reader.u16();
  const flags = reader.u16();
  if (flags & RESERVED_FLAG) throw new DnsPacketError("DNS header has the reserved bit Z set");
  const [questionCount, answerCount, authorityCount, additionalCount] = [
    reader.u16(),
    reader.u16(),
    reader.u16(),
    reader.u16(),
  ];
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < questionCount; i++) {
    questions.push({ name: reader.name(), type: reader.u16(), class: reader.u16() });
  }
  const section = (count: number) => Array.from({ length: count }, () => reader.record());
  const message: DnsMessage = {
    id,
    flags,
    questions,
    answers: section(answerCount),
    authorities: section(authorityCount),
    additionals: section(additionalCount),
  };
  if (reader.offset !== bytes.length) {
    throw new DnsPacketError(`${bytes.length - reader.offset} bytes after the last DNS record`);
  }
  return message;
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  #need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length) {
      throw new DnsPacketError(`DNS packet truncated in ${what} at byte ${this.offset}`);
    }
  }

  u16(): number {
    this.#need(2, "a 16-bit field");
    const value = (this.bytes[this.offset] << 8) | this.bytes[this.offset + 1];
    this.offset += 2;
    return value;
  }

  record(): DnsRecord {
    const name = this.name();
    const type = this.u16();
    const klass = this.u16();
    const ttl = ((this.u16() << 16) | this.u16()) >>> 0;
    const length = this.u16();
    this.#need(length, "RDATA");
    const data = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    // TXT is checked for shape only: text that is not UTF-8 is the reader's concern.
    if (type === DNS_TYPE_TXT) characterStrings(data);
    return { name, type, class: klass, ttl, data };
  }

  /** Reads a possibly compressed name at the current offset and moves past it. */
  name(): string {
    const { bytes } = this;
    const labels: string[] = [];
    let position = this.offset;
    // Start of the run of labels being read; every pointer must target an offset
    // before it, so runs start ever earlier and the walk ends.
    let runStart = position;
    let end: number | undefined;
    let wireLength = 1;
    for (;;) {
      if (position >= bytes.length) {
        throw new DnsPacketError(`DNS packet truncated in a name at byte ${position}`);
      }
      const length = bytes[position];
      if (length === 0) {
        end ??= position + 1;
        break;
      }
      if ((length & 0xc0) === 0xc0) {
        if (position + 1 >= bytes.length) {
          throw new DnsPacketError(`DNS packet truncated in a name pointer at byte ${position}`);
        }
        const target = ((length & 0x3f) << 8) | bytes[position + 1];
        if (target >= runStart || target < HEADER_SIZE) {
          throw new DnsPacketError(
            `DNS name pointer at byte ${position} to ${target} does not point back into the packet`,
          );
        }
        end ??= position + 2;
        position = runStart = target;
        continue;
      }
      if (length & 0xc0) {
        throw new DnsPacketError(`unsupported DNS label type 0x${(length & 0xc0).toString(16)}`);
      }
      wireLength += 1 + length;
      if (wireLength > MAX_NAME_WIRE_LENGTH) {
        throw new DnsPacketError(`DNS name at byte ${this.offset} is longer than 255 bytes`);
      }
      if (position + 1 + length > bytes.length) {
        throw new DnsPacketError(`DNS packet truncated in a label at byte ${position}`);
      }
      labels.push(labelText(bytes.subarray(position + 1, position + 1 + length)));
      position += 1 + length;
    }
    this.offset = end;
    return labels.length === 0 ? "." : labels.join(".");
  }
}

function labelText(label: Uint8Array): string {
  let text = "";
  for (const byte of label) {
    const plain = byte > 0x20 && byte < 0x7f && byte !== 0x2e && byte !== 0x5c;
    text += plain ? String.fromCharCode(byte) : `\\${byte.toString().padStart(3, "0")}`;
  }
  return text;
}
