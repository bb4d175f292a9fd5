/**
 * RFC 6455 framing for our WebSocket client and the relay's server side
 * (sans-IO): frames out, masked by a client and unmasked by a server; frames in,
 * with the message size checked from each frame's header, before its payload is
 * waited for or anything is allocated for it.
 * @module
 */

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** A frame as read from the peer. */
export interface WebSocketFrame {
  /** Last fragment of its message. */
  fin: boolean;
  /** One of {@linkcode Opcode}. */
  opcode: number;
  /** Unmasked payload. */
  payload: Uint8Array;
}

/** The peer broke the framing rules. */
export class WebSocketProtocolError extends Error {
  /** Always "WebSocketProtocolError". */
  override name = "WebSocketProtocolError";
}

/**
 * The payload of a frame that does not arrive in one read is held (at its
 * declared size) until it has; the parser asks before it allocates it.
 */
export class ReceiveBudgetError extends Error {
  /** Always "ReceiveBudgetError". */
  override name = "ReceiveBudgetError";
}

/** Where a {@linkcode FrameParser} reserves the payloads it holds between reads. */
export interface ReceiveHold {
  /** Reserves `bytes`; `false` when they do not fit (nothing is reserved then). */
  tryHold(bytes: number): boolean;
  /** Gives back `bytes` reserved earlier. */
  free(bytes: number): void;
}

/** Longest frame header: 2 bytes, an 8-byte length, a 4-byte mask. */
const MAX_HEADER_BYTES = 14;

/** Bytes a client frame with a payload of `payloadLength` bytes takes. */
export function clientFrameLength(payloadLength: number): number {
  return (payloadLength < 126 ? 6 : payloadLength < 65_536 ? 8 : 14) + payloadLength;
}

/**
 * Writes one client frame into `out` at `offset`, masked with `mask` (4 random
 * bytes) as clients must, so a sender can fill one reused buffer.
 * @returns The offset after the frame.
 * @throws {RangeError} when the frame does not fit in `out`.
 */
export function writeClientFrame(
  out: Uint8Array,
  offset: number,
  opcode: number,
  payload: Uint8Array,
  mask: Uint8Array,
): number {
  const length = payload.length;
  const end = offset + clientFrameLength(length);
  if (end > out.length) throw new RangeError("Cannot write a WebSocket frame: out of room");
  out[offset] = 0x80 | opcode;
  let at = offset + 2;
  if (length < 126) out[offset + 1] = 0x80 | length;
  else if (length < 65_536) {
    out[offset + 1] = 0x80 | 126;
    out[offset + 2] = length >> 8;
    out[offset + 3] = length & 0xff;
    at += 2;
  } else {
    out[offset + 1] = 0x80 | 127;
    new DataView(out.buffer, out.byteOffset).setBigUint64(offset + 2, BigInt(length));
    at += 8;
  }
  out.set(mask.subarray(0, 4), at);
  at += 4;
  out.set(payload, at);
  unmask(out.subarray(at, end), mask);
  return end;
}

/** Encodes one client frame, masked with `mask` (4 random bytes) as clients must. */
export function encodeClientFrame(
  opcode: number,
  payload: Uint8Array,
  mask: Uint8Array,
): Uint8Array {
  const frame = new Uint8Array(clientFrameLength(payload.length));
  writeClientFrame(frame, 0, opcode, payload, mask);
  return frame;
}

/** Encodes one server frame: unmasked, as servers must. */
export function encodeServerFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const header = 2 + lengthBytes;
  const frame = new Uint8Array(header + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = length;
  else if (lengthBytes === 2) {
    frame[1] = 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(payload, header);
  return frame;
}

/** Options of {@linkcode FrameParser}. */
export interface FrameParserOptions {
  /**
   * Frames must be masked, as a server reads them from a client (default: must
   * not be, as a client reads a server's).
   */
  masked?: boolean;
  /**
   * Where a partial frame's payload is reserved before it is allocated
   * (default: nowhere, nothing refused).
   */
  hold?: ReceiveHold;
}

const UNCOUNTED_HOLD: ReceiveHold = { tryHold: () => true, free() {} };

/** A frame whose payload is still arriving. */
interface PartialFrame {
  fin: boolean;
  opcode: number;
  mask: Uint8Array | undefined;
  payload: Uint8Array;
  filled: number;
}

/**
 * Splits the bytes from a peer into frames. A message over `maxMessage` is
 * refused from the header of the frame that would take it over, so the parser
 * never holds more than one frame's header plus `maxMessage` bytes.
 */
export class FrameParser {
  #maxMessage: number;
  readonly #masked: boolean;
  readonly #hold: ReceiveHold;
  readonly #header = new Uint8Array(MAX_HEADER_BYTES);
  #headerBytes = 0;
  #partial: PartialFrame | undefined;
  #fragmentBytes = 0;

  /** @param maxMessage largest message (all fragments) accepted. */
  constructor(maxMessage: number, options: FrameParserOptions = {}) {
    this.#maxMessage = maxMessage;
    this.#masked = options.masked ?? false;
    this.#hold = options.hold ?? UNCOUNTED_HOLD;
  }

  /** Bytes held for a frame whose payload is still arriving (its declared size). */
  get held(): number {
    return this.#partial?.payload.length ?? 0;
  }

  /** Drops a frame still arriving, and gives back what it held (the connection is stopping). */
  clear(): void {
    if (!this.#partial) return;
    this.#hold.free(this.#partial.payload.length);
    this.#partial = undefined;
  }

  /** Largest message accepted; a change applies from the next frame header. */
  get maxMessage(): number {
    return this.#maxMessage;
  }

  set maxMessage(bytes: number) {
    this.#maxMessage = bytes;
  }

  /**
   * Adds bytes; returns every frame now complete. Payloads may be views into
   * `chunk` (unmasked in place), which the caller must not reuse.
   * @throws {WebSocketProtocolError} on a wrongly masked or reserved-bit frame,
   * a message over the limit, or a bad control frame.
   * @throws {ReceiveBudgetError} when a frame's payload must be held and the
   * {@linkcode ReceiveHold} refuses it.
   */
  push(chunk: Uint8Array): WebSocketFrame[] {
    const frames: WebSocketFrame[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#partial) {
        const partial = this.#partial;
        const take = Math.min(partial.payload.length - partial.filled, chunk.length - offset);
        partial.payload.set(chunk.subarray(offset, offset + take), partial.filled);
        partial.filled += take;
        offset += take;
        if (partial.filled === partial.payload.length) {
          this.#partial = undefined;
          // From here the payload is the caller's (a message, or a fragment it keeps).
          this.#hold.free(partial.payload.length);
          frames.push(finish(partial));
        }
        continue;
      }
      this.#header[this.#headerBytes++] = chunk[offset++];
      const head = this.#readHeader();
      if (!head) continue;
      this.#headerBytes = 0;
      const { length } = head;
      if (chunk.length - offset >= length) {
        // The whole payload is here: hand on a view, no copy.
        frames.push(finish({ ...head, payload: chunk.subarray(offset, offset + length) }));
        offset += length;
      } else {
        // Reserved before it is allocated: a header declares what it pleases.
        if (!this.#hold.tryHold(length)) {
          throw new ReceiveBudgetError(`a frame of ${length} bytes still arriving`);
        }
        this.#partial = { ...head, payload: new Uint8Array(length), filled: 0 };
      }
    }
    return frames;
  }

  /** The header once all its bytes are in (and checked), else `undefined`. */
  #readHeader():
    | { fin: boolean; opcode: number; mask: Uint8Array | undefined; length: number }
    | undefined {
    const h = this.#header;
    const have = this.#headerBytes;
    if (have < 2) return undefined;
    if (have === 2) {
      if ((h[0] & 0x70) !== 0) throw new WebSocketProtocolError("reserved bits set");
      if (((h[1] & 0x80) !== 0) !== this.#masked) {
        throw new WebSocketProtocolError(
          this.#masked ? "a client frame is not masked" : "the server masked a frame",
        );
      }
    }
    const short = h[1] & 0x7f;
    const lengthBytes = short === 126 ? 2 : short === 127 ? 8 : 0;
    const size = 2 + lengthBytes + (this.#masked ? 4 : 0);
    if (have < size) return undefined;
    const fin = (h[0] & 0x80) !== 0;
    const opcode = h[0] & 0x0f;
    let length = short;
    if (lengthBytes === 2) length = (h[2] << 8) | h[3];
    else if (lengthBytes === 8) {
      const big = new DataView(h.buffer).getBigUint64(2);
      if (big > BigInt(this.#maxMessage)) throw this.#tooLarge();
      length = Number(big);
    }
    const control = opcode >= 0x8;
    if (control && (length > 125 || !fin)) throw new WebSocketProtocolError("bad control frame");
    if (!control) {
      if (this.#fragmentBytes + length > this.#maxMessage) throw this.#tooLarge();
      this.#fragmentBytes = fin ? 0 : this.#fragmentBytes + length;
    }
    const mask = this.#masked ? h.slice(size - 4, size) : undefined;
    return { fin, opcode, mask, length };
  }

  #tooLarge(): WebSocketProtocolError {
    return new WebSocketProtocolError(`message over ${this.#maxMessage} bytes`);
  }
}

function finish(frame: { fin: boolean; opcode: number; mask?: Uint8Array; payload: Uint8Array }) {
  if (frame.mask) unmask(frame.payload, frame.mask);
  return { fin: frame.fin, opcode: frame.opcode, payload: frame.payload };
}

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * XORs `payload` with the repeating 4-byte `mask`, in place: a word at a time
 * where the buffer allows (the relay unmasks every byte every client sends).
 */
function unmask(payload: Uint8Array, mask: Uint8Array): void {
  const length = payload.length;
  let i = 0;
  if (LITTLE_ENDIAN && length >= 16) {
    // Bytes one at a time up to a 4-byte boundary of the underlying buffer.
    for (; ((payload.byteOffset + i) & 3) !== 0; i++) payload[i] ^= mask[i & 3];
    const words = (length - i) >>> 2;
    const word = mask[i & 3] | (mask[(i + 1) & 3] << 8) | (mask[(i + 2) & 3] << 16) |
      (mask[(i + 3) & 3] << 24);
    const view = new Uint32Array(payload.buffer, payload.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= word;
    i += words * 4;
  }
  for (; i < length; i++) payload[i] ^= mask[i & 3];
}

/** The bytes of `parts`, one after another, in one new array (a fragmented message's whole). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
