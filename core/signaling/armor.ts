/**
 * The text form of a signaling block: base64 between BEGIN/END lines, with a
 * format version and a checksum so a mangled paste is named as such.
 *
 * Bytes inside the base64: magic "TN" (2), format version (1), deflate-raw
 * compressed body, then the first 4 bytes of SHA-256 over everything before them.
 * The version sits outside the compressed body so a block from another version
 * is recognised even when its body would not parse.
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";

/** Format version this build writes and reads. */
export const BLOCK_FORMAT_VERSION = 1;
/** A pasted block longer than this is refused before decoding. */
export const MAX_BLOCK_TEXT = 16 * 1024;
/** A body that inflates past this is refused (a deflate bomb cannot grow memory). */
export const MAX_BLOCK_BODY = 8 * 1024;

const MAGIC = [0x54, 0x4e]; // "TN"
const CHECKSUM_LENGTH = 4;

/** A block could not be read; the message says what to do. */
export class BlockError extends Error {
  /** Always "BlockError". */
  override name = "BlockError";
}

/** Wraps `body` as a block labelled `label` (e.g. "TUNNEL MANUAL OFFER"). */
export async function armor(label: string, body: Uint8Array): Promise<string> {
  const compressed = await transform(body, new CompressionStream("deflate-raw"), Infinity);
  const framed = new Uint8Array([...MAGIC, BLOCK_FORMAT_VERSION, ...compressed]);
  const bytes = new Uint8Array([...framed, ...sha256(framed).subarray(0, CHECKSUM_LENGTH)]);
  const base64 = btoa(String.fromCharCode(...bytes));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----`;
}

/** Whether `text` holds a complete block (its END line has arrived). */
export function hasCompleteBlock(text: string, label: string): boolean {
  return text.includes(`-----END ${label}-----`);
}

/**
 * Finds the block labelled `label` in pasted text and returns its body.
 * Tolerates text around the block, indentation, `>` quoting and CRLF.
 * @throws {BlockError} on a missing, truncated, altered, oversized or
 * wrong-version block, saying which.
 */
export async function dearmor(text: string, label: string): Promise<Uint8Array> {
  if (text.length > MAX_BLOCK_TEXT) {
    throw new BlockError(
      `The pasted text is too long (${text.length} characters; a block is under ${MAX_BLOCK_TEXT})`,
    );
  }
  const lines = text.split(/\r?\n/).map((l) => l.replace(/^[\s>]+/, "").trim());
  const begin = lines.indexOf(`-----BEGIN ${label}-----`);
  if (begin < 0) {
    const other = lines.find((l) => /^-----BEGIN .*-----$/.test(l));
    throw new BlockError(
      other
        ? `Expected a ${label} block but got '${other.slice(11, -5)}'`
        : `No '-----BEGIN ${label}-----' line found; paste the whole block`,
    );
  }
  const end = lines.indexOf(`-----END ${label}-----`, begin);
  if (end < 0) throw new BlockError(`The ${label} block is truncated: its END line is missing`);
  const base64 = lines.slice(begin + 1, end).join("");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new BlockError(
      `The ${label} block is damaged: it contains characters that are not base64 or lost some`,
    );
  }
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  // The last character before padding has bits base64 ignores: a changed one
  // decodes to the same bytes, so only the canonical spelling is accepted.
  if (btoa(String.fromCharCode(...bytes)) !== base64) {
    throw new BlockError(`The ${label} block is damaged: its base64 was altered`);
  }
  if (
    bytes.length < MAGIC.length + 1 + CHECKSUM_LENGTH || bytes[0] !== MAGIC[0] ||
    bytes[1] !== MAGIC[1]
  ) {
    throw new BlockError(`The ${label} block is damaged or not a tunnel block`);
  }
  if (bytes[2] !== BLOCK_FORMAT_VERSION) {
    throw new BlockError(
      `The ${label} block uses format version ${
        bytes[2]
      }, but this tunnel reads version ${BLOCK_FORMAT_VERSION}; run the same tunnel version on both sides`,
    );
  }
  const framed = bytes.subarray(0, bytes.length - CHECKSUM_LENGTH);
  const checksum = bytes.subarray(bytes.length - CHECKSUM_LENGTH);
  if (!sha256(framed).subarray(0, CHECKSUM_LENGTH).every((b, i) => b === checksum[i])) {
    throw new BlockError(
      `The ${label} block failed its checksum: it was altered or cut while copying; paste it again`,
    );
  }
  try {
    return await transform(
      framed.subarray(3),
      new DecompressionStream("deflate-raw"),
      MAX_BLOCK_BODY,
    );
  } catch (error) {
    if (error instanceof BlockError) throw error;
    throw new BlockError(`The ${label} block is damaged: its body does not decompress`);
  }
}

async function transform(
  input: Uint8Array,
  stream: CompressionStream | DecompressionStream,
  limit: number,
): Promise<Uint8Array> {
  const writer = stream.writable.getWriter();
  writer.write(input as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      reader.cancel().catch(() => {});
      throw new BlockError(`The block's body is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
