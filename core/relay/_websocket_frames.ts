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

/** Encodes one client frame, masked with `mask` (4 random bytes) as clients must. */
export function encodeClientFrame(
  opcode: number,
  payload: Uint8Array,
  mask: Uint8Array,
): Uint8Array {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const header = 2 + lengthBytes + 4;
  const frame = new Uint8Array(header + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(mask, 2 + lengthBytes);
  for (let i = 0; i < length; i++) frame[header + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** Splits the bytes from a server into frames; messages over `maxMessage` are refused. */
export class FrameParser {
  readonly #maxMessage: number;
  #buffer: Uint8Array = new Uint8Array(0);
  #fragmentBytes = 0;

  /** @param maxMessage largest message (all fragments) accepted. */
  constructor(maxMessage: number) {
    this.#maxMessage = maxMessage;
  }

  /**
   * Adds bytes; returns every frame now complete.
   * @throws {WebSocketProtocolError} on masked or reserved-bit frames, oversize, bad control frames.
   */
  push(chunk: Uint8Array): WebSocketFrame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const frames: WebSocketFrame[] = [];
    for (;;) {
      const frame = this.#next();
      if (!frame) return frames;
      frames.push(frame);
    }
  }

  #next(): WebSocketFrame | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    const fin = (b[0] & 0x80) !== 0;
    if ((b[0] & 0x70) !== 0) throw new WebSocketProtocolError("reserved bits set");
    const opcode = b[0] & 0x0f;
    if ((b[1] & 0x80) !== 0) throw new WebSocketProtocolError("the server masked a frame");
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = (b[2] << 8) | b[3];
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const big = new DataView(b.buffer, b.byteOffset).getBigUint64(2);
      if (big > BigInt(this.#maxMessage)) throw new WebSocketProtocolError("message too large");
      length = Number(big);
      offset = 10;
    }
    const control = opcode >= 0x8;
    if (control && (length > 125 || !fin)) throw new WebSocketProtocolError("bad control frame");
    if (!control && this.#fragmentBytes + length > this.#maxMessage) {
      throw new WebSocketProtocolError("message too large");
    }
    if (b.length < offset + length) return undefined;
    const payload = b.subarray(offset, offset + length);
    this.#buffer = b.subarray(offset + length);
    if (!control) this.#fragmentBytes = fin ? 0 : this.#fragmentBytes + length;
    return { fin, opcode, payload };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
