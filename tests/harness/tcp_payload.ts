import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { writeAll } from "./_write_all.ts";

/** Byte count and SHA-256 (hex) of a stream. */
export interface PayloadDigest {
  /** Bytes hashed. */
  bytes: number;
  /** Lowercase hex SHA-256 of those bytes. */
  sha256: string;
}

/** Options shaping the deterministic payload. */
export interface PayloadOptions {
  /** PRNG seed; the same seed and size always give the same bytes. Default 1. */
  seed?: number;
  /** Bytes per chunk (a multiple of 4). Default 64 KiB. */
  chunkSize?: number;
}

/** Anything with Deno's `read` contract. */
export interface Reader {
  /** Reads into `p`; resolves with the byte count, or null at EOF. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Anything with Deno's `write` contract. */
export interface Writer {
  /** Writes from `p`; resolves with the byte count written (maybe fewer than asked). */
  write(p: Uint8Array): Promise<number>;
}

const DEFAULT_CHUNK = 64 * 1024;

/**
 * Yields `size` bytes of deterministic pseudo-random data (xorshift32 words in
 * little-endian order, independent of the chunk size). The same buffer is reused:
 * consume each chunk before asking for the next. Memory stays at one chunk.
 *
 * @throws {RangeError} when the chunk size is not a positive multiple of 4.
 */
export function* payloadChunks(size: number, options: PayloadOptions = {}): Generator<Uint8Array> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK;
  if (chunkSize <= 0 || chunkSize % 4 !== 0) {
    throw new RangeError(
      `Cannot make payload chunks: chunk size ${chunkSize} is not a multiple of 4`,
    );
  }
  const buffer = new Uint8Array(chunkSize);
  const view = new DataView(buffer.buffer);
  // xorshift32 must never hold 0; fold the seed into a non-zero 32-bit state.
  let state = ((options.seed ?? 1) ^ 0x9e3779b9) >>> 0 || 1;
  // Bounded by size / chunkSize turns.
  for (let sent = 0; sent < size; sent += chunkSize) {
    const length = Math.min(chunkSize, size - sent);
    for (let offset = 0; offset < length; offset += 4) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      view.setUint32(offset, state, true);
    }
    yield buffer.subarray(0, length);
  }
}

/** The digest {@linkcode sendPayload} will report for these arguments, without any I/O. */
export function payloadDigest(size: number, options: PayloadOptions = {}): PayloadDigest {
  const hash = sha256.create();
  for (const chunk of payloadChunks(size, options)) hash.update(chunk);
  return { bytes: size, sha256: bytesToHex(hash.digest()) };
}

/**
 * Writes `size` payload bytes to `writer`, hashing what it wrote. Does not close.
 *
 * @example
 * ```ts
 * const sent = await sendPayload(conn, 8 << 20);
 * await conn.closeWrite();
 * ```
 */
export async function sendPayload(
  writer: Writer,
  size: number,
  options: PayloadOptions = {},
): Promise<PayloadDigest> {
  const hash = sha256.create();
  for (const chunk of payloadChunks(size, options)) {
    hash.update(chunk);
    await writeAll(writer, chunk);
  }
  return { bytes: size, sha256: bytesToHex(hash.digest()) };
}

/**
 * Reads `reader` until EOF, hashing everything.
 *
 * @throws {RangeError} when more than `options.maxBytes` arrive.
 */
export async function receiveDigest(
  reader: Reader,
  options: { maxBytes?: number; chunkSize?: number } = {},
): Promise<PayloadDigest> {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const buffer = new Uint8Array(options.chunkSize ?? DEFAULT_CHUNK);
  const hash = sha256.create();
  let bytes = 0;
  // Bounded by EOF and by maxBytes.
  while (true) {
    const n = await reader.read(buffer);
    if (n === null) break;
    bytes += n;
    if (bytes > maxBytes) {
      throw new RangeError(`Cannot receive payload: more than ${maxBytes} bytes arrived`);
    }
    hash.update(buffer.subarray(0, n));
  }
  return { bytes, sha256: bytesToHex(hash.digest()) };
}

/** Options for {@linkcode transferPayload}. */
export interface TransferOptions extends PayloadOptions {
  /** Host to connect to. Default `127.0.0.1`. */
  hostname?: string;
  /** Abort (close the connection) after this long. Default 60,000 ms. */
  timeoutMs?: number;
}

/** What {@linkcode transferPayload} sent and got back. */
export interface TransferResult {
  /** Digest of the bytes written. */
  sent: PayloadDigest;
  /** Digest of the bytes read back until EOF. */
  received: PayloadDigest;
  /** Wall time of the whole exchange. */
  ms: number;
}

/**
 * Connects to an echo service at `port` (directly or through a tunnel), sends `size`
 * bytes, half-closes, and reads the echo until EOF, hashing both directions. Equal
 * digests prove the path carries data intact and forwards half-close.
 *
 * @throws {Error} "Cannot transfer payload: ..." on timeout; connection errors as thrown.
 * @example
 * ```ts
 * const { sent, received } = await transferPayload(client.localPort, 16 << 20);
 * assertEquals(received, sent);
 * ```
 */
export async function transferPayload(
  port: number,
  size: number,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: options.hostname ?? "127.0.0.1", port });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let firstError: unknown;
  let closed = false;
  // Closing the connection makes a pending read or write fail: that is how a timeout
  // or a failure in one direction ends the other direction too.
  const closeOnce = () => {
    if (!closed) {
      closed = true;
      conn.close();
    }
  };
  const fail = (error: unknown): never => {
    firstError ??= error;
    closeOnce();
    throw error;
  };
  const timer = setTimeout(() => {
    firstError ??= new Error(`Cannot transfer payload: not done within ${timeoutMs} ms`);
    closeOnce();
  }, timeoutMs);
  try {
    const [sent, received] = await Promise.allSettled([
      sendPayload(conn, size, options).then(async (digest) => {
        await conn.closeWrite();
        return digest;
      }).catch(fail),
      receiveDigest(conn, { maxBytes: size }).catch(fail),
    ]);
    if (sent.status === "rejected" || received.status === "rejected") throw firstError;
    return { sent: sent.value, received: received.value, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
    closeOnce();
  }
}
