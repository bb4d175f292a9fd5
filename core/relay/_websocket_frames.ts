/**
 * RFC 6455 framing for our WebSocket client (sans-IO): masked frames out,
 * unmasked frames in, with the message size capped before anything is kept.
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

/** A frame as read from the server. */
export interface WebSocketFrame {
  /** Last fragment of its message. */
  fin: boolean;
  /** One of {@linkcode Opcode}. */
  opcode: number;
  /** Unmasked payload. */
  payload: Uint8Array;
}

/** The server broke the framing rules. */
export class WebSocketProtocolError extends Error {
  /** Always "WebSocketProtocolError". */
  override name = "WebSocketProtocolError";
}

/** The longest frame header: 2 bytes, an 8-byte length, a 4-byte mask. */
const MAX_HEADER = 14;

/** Bytes a client frame with a payload of `payloadLength` bytes takes. */
export function clientFrameLength(payloadLength: number): number {
  return (payloadLength < 126 ? 6 : payloadLength < 65_536 ? 8 : 14) + payloadLength;
}

/**
 * Writes one client frame into `out` at `offset`, masked with `mask` (4 random
 * bytes) as clients must.
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
  maskInPlace(out.subarray(at, end), mask);
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

/** XORs `bytes` with the repeating 4-byte `mask`, four bytes at a time where aligned. */
function maskInPlace(bytes: Uint8Array, mask: Uint8Array): void {
  const length = bytes.length;
  let i = 0;
  for (; i < length && ((bytes.byteOffset + i) & 3) !== 0; i++) bytes[i] ^= mask[i & 3];
  const words = (length - i) >> 2;
  if (words > 0) {
    // The mask as one word in this machine's byte order, rotated to start at byte i.
    const word = new Uint8Array(4);
    for (let k = 0; k < 4; k++) word[k] = mask[(i + k) & 3];
    const m = new Uint32Array(word.buffer)[0];
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w] ^= m;
    i += words * 4;
  }
  for (; i < length; i++) bytes[i] ^= mask[i & 3];
}

/** A frame header read from the server. */
interface FrameHead {
  fin: boolean;
  opcode: number;
  headerLength: number;
  payloadLength: number;
}

/**
 * Splits the bytes from a server into frames; messages over `maxMessage` are
 * refused. Frames are views into the chunks pushed; only a frame split across
 * chunks is copied, once, into a buffer of its own size.
 */
export class FrameParser {
  readonly #maxMessage: number;
  #fragmentBytes = 0;
  /** A frame split across chunks: its header so far, or all of it once its length is known. */
  #partial: Uint8Array | undefined;
  #partialFilled = 0;
  #partialHead: FrameHead | undefined;

  /** @param maxMessage largest message (all fragments) accepted. */
  constructor(maxMessage: number) {
    this.#maxMessage = maxMessage;
  }

  /**
   * Adds bytes; returns every frame now complete.
   * @throws {WebSocketProtocolError} on masked or reserved-bit frames, oversize, bad control frames.
   */
  push(chunk: Uint8Array): WebSocketFrame[] {
    const frames: WebSocketFrame[] = [];
    let offset = 0;
    if (this.#partial) {
      offset = this.#continuePartial(chunk, frames);
      if (offset < 0) return frames;
    }
    while (offset < chunk.length) {
      const head = this.#head(chunk, offset);
      const end = head ? offset + head.headerLength + head.payloadLength : Infinity;
      if (end > chunk.length) {
        this.#startPartial(chunk.subarray(offset), head);
        break;
      }
      frames.push(this.#frame(head!, chunk.subarray(offset + head!.headerLength, end)));
      offset = end;
    }
    return frames;
  }

  #startPartial(bytes: Uint8Array, head: FrameHead | undefined): void {
    this.#partialHead = head;
    this.#partial = new Uint8Array(head ? head.headerLength + head.payloadLength : MAX_HEADER);
    this.#partial.set(bytes);
    this.#partialFilled = bytes.length;
  }

  /** Feeds the split frame; returns where the rest of `chunk` starts, or -1 when it took all. */
  #continuePartial(chunk: Uint8Array, frames: WebSocketFrame[]): number {
    let used = 0;
    if (!this.#partialHead) {
      // Only part of the header so far: add bytes from the chunk until it is whole.
      const had = this.#partialFilled;
      const added = Math.min(chunk.length, MAX_HEADER - had);
      this.#partial!.set(chunk.subarray(0, added), had);
      const head = this.#head(this.#partial!.subarray(0, had + added), 0);
      if (!head) {
        this.#partialFilled += added;
        return -1;
      }
      // The header bytes may reach past a short frame: keep only the frame's own.
      const own = Math.min(had + added, head.headerLength + head.payloadLength);
      this.#startPartial(this.#partial!.subarray(0, own), head);
      used = own - had;
    }
    const frame = this.#partial!;
    const take = Math.min(chunk.length - used, frame.length - this.#partialFilled);
    frame.set(chunk.subarray(used, used + take), this.#partialFilled);
    this.#partialFilled += take;
    used += take;
    if (this.#partialFilled < frame.length) return -1;
    const head = this.#partialHead!;
    this.#partial = this.#partialHead = undefined;
    frames.push(this.#frame(head, frame.subarray(head.headerLength)));
    return used;
  }

  #frame(head: FrameHead, payload: Uint8Array): WebSocketFrame {
    if (head.opcode < 0x8) {
      this.#fragmentBytes = head.fin ? 0 : this.#fragmentBytes + payload.length;
    }
    return { fin: head.fin, opcode: head.opcode, payload };
  }

  /** The header at `offset`, checked; undefined when `b` ends inside it. */
  #head(b: Uint8Array, offset: number): FrameHead | undefined {
    if (b.length - offset < 2) return undefined;
    const first = b[offset];
    const second = b[offset + 1];
    const fin = (first & 0x80) !== 0;
    if ((first & 0x70) !== 0) throw new WebSocketProtocolError("reserved bits set");
    const opcode = first & 0x0f;
    if ((second & 0x80) !== 0) throw new WebSocketProtocolError("the server masked a frame");
    let length = second & 0x7f;
    let headerLength = 2;
    if (length === 126) {
      if (b.length - offset < 4) return undefined;
      length = (b[offset + 2] << 8) | b[offset + 3];
      headerLength = 4;
    } else if (length === 127) {
      if (b.length - offset < 10) return undefined;
      const big = new DataView(b.buffer, b.byteOffset).getBigUint64(offset + 2);
      if (big > BigInt(this.#maxMessage)) throw new WebSocketProtocolError("message too large");
      length = Number(big);
      headerLength = 10;
    }
    const control = opcode >= 0x8;
    if (control && (length > 125 || !fin)) throw new WebSocketProtocolError("bad control frame");
    if (!control && this.#fragmentBytes + length > this.#maxMessage) {
      throw new WebSocketProtocolError("message too large");
    }
    return { fin, opcode, headerLength, payloadLength: length };
  }
}
