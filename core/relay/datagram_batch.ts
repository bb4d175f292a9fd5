/**
 * Batch frames (types 5 and 7) as iroh uses them, after UDP GSO: one frame carries
 * several datagrams of `segmentSize` bytes each, back to back, the last one
 * possibly shorter (sans-IO). {@linkcode DatagramBatcher} builds them from the
 * datagrams a client sends; {@linkcode splitDatagrams} takes them apart.
 *
 * Every relay and client speaking `iroh-relay-v1` or later knows batch frames:
 * they came in the same iroh release (0.91) as the v1 handshake.
 * @module
 */
import {
  BATCH_HEADER_LENGTH,
  DATAGRAM_HEADER_LENGTH,
  MAX_BATCH_PAYLOAD,
  MAX_DATAGRAM_PAYLOAD,
  writeDatagramHeader,
} from "./frames.ts";

/**
 * Room for this many datagrams is made when a batch opens. Most batches are a
 * flight of QUIC packets or a few acknowledgements; bigger ones grow by doubling.
 */
const INITIAL_SEGMENTS = 8;
const KEY_LENGTH = 32;
/** A batch frame's header is this much longer than a single datagram's. */
const SEGMENT_SIZE_LENGTH = BATCH_HEADER_LENGTH - DATAGRAM_HEADER_LENGTH;

/**
 * The datagrams of a datagram frame's payload: segments of `segmentSize` bytes,
 * the last one possibly shorter. Without a segment size (or with one at least as
 * long as the payload) the payload is one datagram.
 *
 * @param payload A datagram frame's payload.
 * @param segmentSize Its segment size, when it is a batch.
 * @returns Views into `payload`, in order.
 * @throws {RangeError} for a segment size that is not a positive integer.
 *
 * @example
 * ```ts
 * import { splitDatagrams } from "./datagram_batch.ts";
 * splitDatagrams(Uint8Array.of(1, 2, 3, 4, 5), 2); // [1, 2], [3, 4], [5]
 * ```
 */
export function splitDatagrams(payload: Uint8Array, segmentSize?: number): Uint8Array[] {
  if (segmentSize === undefined || segmentSize >= payload.length) return [payload];
  if (!Number.isInteger(segmentSize) || segmentSize < 1) {
    throw new RangeError(`Cannot split a batch: segment size ${segmentSize} is not positive`);
  }
  const datagrams: Uint8Array[] = [];
  for (let start = 0; start < payload.length; start += segmentSize) {
    datagrams.push(payload.subarray(start, Math.min(start + segmentSize, payload.length)));
  }
  return datagrams;
}

/**
 * Gathers consecutive datagrams to one destination into client-to-relay frames,
 * copying each datagram once, into the frame that will be sent. Datagrams of one
 * size go into one batch frame, which a shorter datagram ends; a longer one, or
 * another destination, starts a new frame. A frame of one datagram is a plain
 * datagram frame (type 4), so a lone packet costs no more than before.
 *
 * @example
 * ```ts
 * import { DatagramBatcher } from "./datagram_batch.ts";
 * const batcher = new DatagramBatcher();
 * const server = new Uint8Array(32);
 * batcher.add(server, new Uint8Array(1200)); // undefined: the batch is open
 * batcher.add(server, new Uint8Array(1200));
 * const frame = batcher.flush(); // one type-5 frame, segment size 1200, 2400 bytes of payload
 * ```
 */
export class DatagramBatcher {
  /** The open frame, laid out as a batch frame; a single datagram's header starts 2 bytes in. */
  #frame: Uint8Array | undefined;
  #destination: Uint8Array | undefined;
  #segmentSize = 0;
  #payloadLength = 0;
  #count = 0;
  /** A shorter datagram ended the batch: nothing more may join it. */
  #ended = false;

  /** Whether a frame is open (something to {@linkcode DatagramBatcher.flush}). */
  get pending(): boolean {
    return this.#frame !== undefined;
  }

  /**
   * Adds a datagram (copied; the caller may reuse its buffer).
   *
   * @param destination The peer's 32-byte key.
   * @param payload The datagram, 1 to {@linkcode MAX_DATAGRAM_PAYLOAD} bytes.
   * @returns The frame this datagram closed, ready to send, if any.
   * @throws {RangeError} for an empty or oversized datagram or a key that is not 32 bytes.
   */
  add(destination: Uint8Array, payload: Uint8Array): Uint8Array | undefined {
    const length = payload.length;
    if (destination.length !== KEY_LENGTH) {
      throw new RangeError(`Cannot batch a datagram: the key must be ${KEY_LENGTH} bytes`);
    }
    if (length === 0 || length > MAX_DATAGRAM_PAYLOAD) {
      throw new RangeError(
        `Cannot batch a datagram of ${length} bytes: must be 1 to ${MAX_DATAGRAM_PAYLOAD}`,
      );
    }
    if (this.#joins(destination, length)) {
      this.#append(payload);
      return undefined;
    }
    const closed = this.flush();
    this.#open(destination, length);
    this.#append(payload);
    return closed;
  }

  /**
   * Closes the open frame.
   * @returns It, ready to send, or undefined when none is open.
   */
  flush(): Uint8Array | undefined {
    const frame = this.#frame;
    if (!frame) return undefined;
    const destination = this.#destination!;
    const end = BATCH_HEADER_LENGTH + this.#payloadLength;
    this.#frame = this.#destination = undefined;
    const type = "client-to-relay-datagram";
    if (this.#count === 1) {
      // One datagram: a plain frame, whose shorter header ends where the payload starts.
      writeDatagramHeader(frame, SEGMENT_SIZE_LENGTH, { type, key: destination, ecn: 0 });
      return frame.subarray(SEGMENT_SIZE_LENGTH, end);
    }
    writeDatagramHeader(frame, 0, {
      type,
      key: destination,
      ecn: 0,
      segmentSize: this.#segmentSize,
    });
    return frame.subarray(0, end);
  }

  #joins(destination: Uint8Array, length: number): boolean {
    return this.#frame !== undefined && !this.#ended && length <= this.#segmentSize &&
      this.#payloadLength + length <= MAX_BATCH_PAYLOAD &&
      sameKey(destination, this.#destination!);
  }

  #open(destination: Uint8Array, length: number): void {
    // A datagram too big for a batch still fits: as a plain frame it starts 2 bytes in.
    this.#frame = new Uint8Array(
      BATCH_HEADER_LENGTH +
        Math.max(length, Math.min(MAX_BATCH_PAYLOAD, length * INITIAL_SEGMENTS)),
    );
    // A copy: the caller may reuse its key's buffer before the frame is flushed.
    this.#destination = destination.slice();
    this.#segmentSize = length;
    this.#payloadLength = 0;
    this.#count = 0;
    this.#ended = false;
  }

  #append(payload: Uint8Array): void {
    let frame = this.#frame!;
    const offset = BATCH_HEADER_LENGTH + this.#payloadLength;
    if (offset + payload.length > frame.length) {
      const grown = new Uint8Array(
        BATCH_HEADER_LENGTH +
          Math.min(MAX_BATCH_PAYLOAD, 2 * (frame.length - BATCH_HEADER_LENGTH)),
      );
      grown.set(frame.subarray(0, offset));
      this.#frame = frame = grown;
    }
    frame.set(payload, offset);
    this.#payloadLength += payload.length;
    this.#count++;
    if (payload.length < this.#segmentSize) this.#ended = true;
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
