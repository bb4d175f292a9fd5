/**
 * The frames of iroh's relay protocol, one per binary WebSocket message (sans-IO).
 *
 * A frame is a QUIC varint frame type, then a body laid out as iroh lays it out
 * (`iroh-relay/src/protos/{common,handshake,relay}.rs`). The four handshake frames
 * (types 0-3) are postcard-encoded structs in iroh; the rest are hand-written.
 * @module
 */
import {
  leb128Length,
  quicVarintByte,
  readLeb128,
  readQuicVarint,
  writeLeb128,
} from "./_varint.ts";

/** A relay protocol version, negotiated through `Sec-WebSocket-Protocol`. */
export type RelayProtocolVersion = 1 | 2;

/** The WebSocket subprotocol that names each version. */
export const RELAY_SUBPROTOCOLS: Readonly<Record<RelayProtocolVersion, string>> = Object.freeze({
  1: "iroh-relay-v1",
  2: "iroh-relay-v2",
});

/**
 * The highest version named in a `Sec-WebSocket-Protocol` value: one name, or a
 * comma-separated list as a client offers it (iroh's relay picks the same way).
 *
 * @param subprotocols The header value.
 * @returns The version, or undefined when no name is known.
 *
 * @example
 * ```ts
 * import { relayProtocolVersion } from "./frames.ts";
 * relayProtocolVersion("iroh-relay-v2, iroh-relay-v1"); // 2
 * ```
 */
export function relayProtocolVersion(subprotocols: string): RelayProtocolVersion | undefined {
  const names = subprotocols.split(",").map((name) => name.trim());
  if (names.includes(RELAY_SUBPROTOCOLS[2])) return 2;
  if (names.includes(RELAY_SUBPROTOCOLS[1])) return 1;
  return undefined;
}

/**
 * iroh's limit for frames after the handshake (types 4-13): it refuses to send one
 * longer than this (type byte included) and to accept one whose body is longer.
 */
export const MAX_PACKET_SIZE = 64 * 1024;
/** Largest WebSocket message accepted (iroh's WebSocket payload limit, both sides). */
export const MAX_FRAME_SIZE = 1024 * 1024;

const KEY_LENGTH = 32;
/** Largest payload of a single-datagram frame: a frame of {@linkcode MAX_PACKET_SIZE} less type, key and ECN byte. */
export const MAX_DATAGRAM_PAYLOAD = MAX_PACKET_SIZE - 1 - KEY_LENGTH - 1;
/** Largest payload of a batch frame, which also carries a 2-byte segment size. */
export const MAX_BATCH_PAYLOAD = MAX_DATAGRAM_PAYLOAD - 2;

/**
 * A connection status a relay reports (v2). "unknown" stands for a code this codec
 * does not know, which iroh also accepts, so newer relays stay readable.
 */
export type RelayStatus = "healthy" | "same-endpoint-elsewhere" | "rate-limited" | "unknown";

/** A decoded relay frame. Byte fields of a decoded frame are views into the message. */
export type RelayFrame =
  | { type: "server-challenge"; challenge: Uint8Array }
  | { type: "client-auth"; publicKey: Uint8Array; signature: Uint8Array }
  | { type: "server-confirms-auth" }
  | { type: "server-denies-auth"; reason: string }
  | {
    type: "client-to-relay-datagram";
    destination: Uint8Array;
    ecn: number;
    payload: Uint8Array;
    segmentSize?: number;
  }
  | {
    type: "relay-to-client-datagram";
    source: Uint8Array;
    ecn: number;
    payload: Uint8Array;
    segmentSize?: number;
  }
  | { type: "endpoint-gone"; endpoint: Uint8Array }
  | { type: "ping"; data: Uint8Array }
  | { type: "pong"; data: Uint8Array }
  | { type: "health"; problem: string }
  | { type: "restarting"; reconnectInMs: number; tryForMs: number }
  | { type: "status"; status: RelayStatus; code?: number };

/** Who may send each frame: iroh's client and relay each refuse the other's frames. */
export const RELAY_FRAME_SENDER: Readonly<
  Record<RelayFrame["type"], "client" | "relay" | "either">
> = Object.freeze({
  "server-challenge": "relay",
  "client-auth": "client",
  "server-confirms-auth": "relay",
  "server-denies-auth": "relay",
  "client-to-relay-datagram": "client",
  "relay-to-client-datagram": "relay",
  "endpoint-gone": "relay",
  "ping": "either",
  "pong": "either",
  "health": "relay",
  "restarting": "relay",
  "status": "relay",
});

/** A message that is not a frame this codec and version accept. */
export class RelayFrameError extends Error {
  /** Always "RelayFrameError". */
  override name = "RelayFrameError";
}

// One registry of wire types (iroh's FrameType), so two frames can never share an id.
const WIRE = {
  serverChallenge: 0,
  clientAuth: 1,
  serverConfirmsAuth: 2,
  serverDeniesAuth: 3,
  clientToRelayDatagram: 4,
  clientToRelayDatagramBatch: 5,
  relayToClientDatagram: 6,
  relayToClientDatagramBatch: 7,
  endpointGone: 8,
  ping: 9,
  pong: 10,
  health: 11,
  restarting: 12,
  status: 13,
} as const;

const CHALLENGE_LENGTH = 16;
const SIGNATURE_LENGTH = 64;
const PING_LENGTH = 8;
const STATUS_CODES = { "healthy": 0, "same-endpoint-elsewhere": 1, "rate-limited": 2 } as const;
const STATUS_NAMES: readonly RelayStatus[] = ["healthy", "same-endpoint-elsewhere", "rate-limited"];

const textEncoder = new TextEncoder();
// Rust's str::from_utf8 keeps a byte order mark, so the decoder must too.
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function checkVersion(version: RelayProtocolVersion): void {
  if (version !== 1 && version !== 2) {
    throw new RangeError(`Cannot use relay protocol version ${version}: only 1 and 2 exist`);
  }
}

function requireLength(type: string, field: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    throw new RangeError(
      `Cannot encode ${type}: ${field} must be ${length} bytes, got ${bytes?.length}`,
    );
  }
}

function requireUint(type: string, field: string, value: number, max: number, min = 0): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Cannot encode ${type}: ${field} must be an integer ${min}..${max}`);
  }
}

function requireSize(type: string, size: number, limit: number): void {
  if (size > limit) {
    throw new RangeError(`Cannot encode ${type}: ${size} bytes exceeds the limit of ${limit}`);
  }
}

/** A frame of `size` bytes with its one-byte type written. */
function frameOf(wireType: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out[0] = quicVarintByte(wireType);
  return out;
}

function encodeDatagram(
  type: string,
  wireType: number,
  batchWireType: number,
  key: Uint8Array,
  ecn: number,
  payload: Uint8Array,
  segmentSize: number | undefined,
): Uint8Array {
  requireLength(type, type === "client-to-relay-datagram" ? "destination" : "source", key, 32);
  // The ECN codepoint of the datagram, as in the IP header: 0 is "not ECN-capable".
  requireUint(type, "ecn", ecn, 3);
  if (segmentSize !== undefined) requireUint(type, "segmentSize", segmentSize, 0xffff, 1);
  // iroh's client and relay both refuse to send an empty datagram.
  if (!(payload instanceof Uint8Array) || payload.length === 0) {
    throw new RangeError(`Cannot encode ${type}: the payload is empty`);
  }
  const header = 1 + KEY_LENGTH + 1 + (segmentSize === undefined ? 0 : 2);
  requireSize(type, header + payload.length, MAX_PACKET_SIZE);
  const out = frameOf(
    segmentSize === undefined ? wireType : batchWireType,
    header + payload.length,
  );
  out.set(key, 1);
  out[1 + KEY_LENGTH] = ecn;
  if (segmentSize !== undefined) {
    out[2 + KEY_LENGTH] = segmentSize >> 8;
    out[3 + KEY_LENGTH] = segmentSize & 0xff;
  }
  out.set(payload, header);
  return out;
}

function encodeText(
  type: string,
  wireType: number,
  text: string,
  limit: number,
  lengthPrefix: boolean,
) {
  // Every UTF-16 unit is at least one UTF-8 byte: refuse a huge string before encoding it.
  requireSize(type, 1 + text.length, limit);
  const bytes = textEncoder.encode(text);
  const prefix = lengthPrefix ? leb128Length(bytes.length) : 0;
  requireSize(type, 1 + prefix + bytes.length, limit);
  const out = frameOf(wireType, 1 + prefix + bytes.length);
  if (lengthPrefix) writeLeb128(out, 1, bytes.length);
  out.set(bytes, 1 + prefix);
  return out;
}

/**
 * Encodes one frame as one WebSocket binary message, exactly as iroh does.
 *
 * Handshake frames may fill a whole {@linkcode MAX_FRAME_SIZE} message; the others
 * at most {@linkcode MAX_PACKET_SIZE} bytes. Datagram frames with `segmentSize` set
 * become batch frames (types 5 and 7).
 *
 * @param frame The frame.
 * @param version The negotiated protocol version.
 * @returns The message bytes.
 * @throws {RangeError} for a field of the wrong length or range, an empty datagram,
 * a frame over its limit, a version other than 1 or 2, or a frame the version does
 * not allow (health needs v1, status v2).
 *
 * @example
 * ```ts
 * import { encodeRelayFrame } from "./frames.ts";
 * const message = encodeRelayFrame({ type: "ping", data: new Uint8Array(8) }, 2);
 * // message: 09 00 00 00 00 00 00 00 00
 * ```
 */
export function encodeRelayFrame(frame: RelayFrame, version: RelayProtocolVersion): Uint8Array {
  checkVersion(version);
  switch (frame.type) {
    case "server-challenge": {
      // postcard writes a [u8; 16] as its 16 bytes, without a length.
      requireLength(frame.type, "challenge", frame.challenge, CHALLENGE_LENGTH);
      const out = frameOf(WIRE.serverChallenge, 1 + CHALLENGE_LENGTH);
      out.set(frame.challenge, 1);
      return out;
    }
    case "client-auth": {
      // The key is a [u8; 32] (no length); the signature goes through serde_bytes,
      // which postcard writes as a byte string: LEB128 length 64 (one byte, 0x40), then 64 bytes.
      requireLength(frame.type, "publicKey", frame.publicKey, KEY_LENGTH);
      requireLength(frame.type, "signature", frame.signature, SIGNATURE_LENGTH);
      const out = frameOf(WIRE.clientAuth, 1 + KEY_LENGTH + 1 + SIGNATURE_LENGTH);
      out.set(frame.publicKey, 1);
      out[1 + KEY_LENGTH] = SIGNATURE_LENGTH;
      out.set(frame.signature, 2 + KEY_LENGTH);
      return out;
    }
    case "server-confirms-auth":
      // A unit struct: postcard writes nothing.
      return frameOf(WIRE.serverConfirmsAuth, 1);
    case "server-denies-auth":
      // A String: LEB128 length, then UTF-8.
      return encodeText(frame.type, WIRE.serverDeniesAuth, frame.reason, MAX_FRAME_SIZE, true);
    case "client-to-relay-datagram":
      return encodeDatagram(
        frame.type,
        WIRE.clientToRelayDatagram,
        WIRE.clientToRelayDatagramBatch,
        frame.destination,
        frame.ecn,
        frame.payload,
        frame.segmentSize,
      );
    case "relay-to-client-datagram":
      return encodeDatagram(
        frame.type,
        WIRE.relayToClientDatagram,
        WIRE.relayToClientDatagramBatch,
        frame.source,
        frame.ecn,
        frame.payload,
        frame.segmentSize,
      );
    case "endpoint-gone": {
      requireLength(frame.type, "endpoint", frame.endpoint, KEY_LENGTH);
      const out = frameOf(WIRE.endpointGone, 1 + KEY_LENGTH);
      out.set(frame.endpoint, 1);
      return out;
    }
    case "ping":
    case "pong": {
      requireLength(frame.type, "data", frame.data, PING_LENGTH);
      const out = frameOf(WIRE[frame.type], 1 + PING_LENGTH);
      out.set(frame.data, 1);
      return out;
    }
    case "health":
      if (version !== 1) {
        throw new RangeError("Cannot encode health: relay protocol v2 has status frames instead");
      }
      // The whole body is the text, without a length.
      return encodeText(frame.type, WIRE.health, frame.problem, MAX_PACKET_SIZE, false);
    case "restarting": {
      requireUint(frame.type, "reconnectInMs", frame.reconnectInMs, 0xffff_ffff);
      requireUint(frame.type, "tryForMs", frame.tryForMs, 0xffff_ffff);
      const out = frameOf(WIRE.restarting, 9);
      const view = new DataView(out.buffer);
      view.setUint32(1, frame.reconnectInMs);
      view.setUint32(5, frame.tryForMs);
      return out;
    }
    case "status": {
      if (version !== 2) {
        throw new RangeError("Cannot encode status: relay protocol v1 has health frames instead");
      }
      let code: number;
      if (frame.status === "unknown") {
        // Codes 0-2 have names; an unknown status carries one of the others.
        requireUint(frame.type, "code", frame.code as number, 255, STATUS_NAMES.length);
        code = frame.code as number;
      } else if (Object.hasOwn(STATUS_CODES, frame.status)) {
        code = STATUS_CODES[frame.status];
      } else {
        throw new RangeError(`Cannot encode status: unknown status '${frame.status}'`);
      }
      const out = frameOf(WIRE.status, 2);
      out[1] = code;
      return out;
    }
  }
  throw new RangeError(`Cannot encode relay frame: unknown type '${(frame as RelayFrame).type}'`);
}

/** The header of a datagram frame: type byte, key, ECN byte, and a batch's segment size. */
export const DATAGRAM_HEADER_LENGTH = 1 + KEY_LENGTH + 1;
/** The header of a batch frame: {@linkcode DATAGRAM_HEADER_LENGTH} plus the 2-byte segment size. */
export const BATCH_HEADER_LENGTH = DATAGRAM_HEADER_LENGTH + 2;

/**
 * Writes the header of a datagram frame into `out` at `offset`, for building a
 * frame in place; the payload follows at the returned offset. With `segmentSize`
 * the header is a batch frame's (types 5 and 7), as {@linkcode encodeRelayFrame}
 * writes it.
 *
 * @param out Where the frame is built.
 * @param offset Where the frame starts in `out`.
 * @param header The frame's type, key (destination or source), ECN codepoint and segment size.
 * @returns The offset of the payload.
 * @throws {RangeError} for a key that is not 32 bytes, an ECN or segment size out of
 * range, or a header that does not fit in `out`.
 *
 * @example
 * ```ts
 * import { encodeRelayFrame, writeDatagramHeader } from "./frames.ts";
 * const key = new Uint8Array(32);
 * const out = new Uint8Array(40);
 * const start = writeDatagramHeader(out, 0, { type: "client-to-relay-datagram", key, ecn: 0 });
 * out.set([1, 2, 3], start);
 * // out.subarray(0, start + 3) equals the encoding of that datagram
 * ```
 */
export function writeDatagramHeader(
  out: Uint8Array,
  offset: number,
  header: {
    type: "client-to-relay-datagram" | "relay-to-client-datagram";
    key: Uint8Array;
    ecn: number;
    segmentSize?: number;
  },
): number {
  const { type, key, ecn, segmentSize } = header;
  const toRelay = type === "client-to-relay-datagram";
  requireLength(type, toRelay ? "destination" : "source", key, KEY_LENGTH);
  requireUint(type, "ecn", ecn, 3);
  if (segmentSize !== undefined) requireUint(type, "segmentSize", segmentSize, 0xffff, 1);
  const end = offset + (segmentSize === undefined ? DATAGRAM_HEADER_LENGTH : BATCH_HEADER_LENGTH);
  if (!Number.isInteger(offset) || offset < 0 || end > out.length) {
    throw new RangeError(`Cannot encode ${type}: the header does not fit at offset ${offset}`);
  }
  const wireType = segmentSize === undefined
    ? (toRelay ? WIRE.clientToRelayDatagram : WIRE.relayToClientDatagram)
    : (toRelay ? WIRE.clientToRelayDatagramBatch : WIRE.relayToClientDatagramBatch);
  out[offset] = quicVarintByte(wireType);
  out.set(key, offset + 1);
  out[offset + 1 + KEY_LENGTH] = ecn;
  if (segmentSize !== undefined) {
    out[offset + 2 + KEY_LENGTH] = segmentSize >> 8;
    out[offset + 3 + KEY_LENGTH] = segmentSize & 0xff;
  }
  return end;
}

/**
 * Turns a client-to-relay datagram message into the relay-to-client message
 * iroh's relay sends for it, reusing the message's bytes: the type becomes the
 * relay-to-client one, the destination key becomes `source`, and the ECN byte
 * keeps only its codepoint. A batch with segment size 0 (one datagram, for iroh)
 * becomes a single-datagram frame, and a frame type in a longer varint form than
 * needed becomes the one-byte form: the result is then a view starting a few bytes
 * in. Read the destination before: it is overwritten.
 *
 * @param message A message {@linkcode decodeRelayFrame} accepted as a
 * client-to-relay datagram.
 * @param source The sender's key.
 * @returns The message to forward: a view into `message`, ending where it ends.
 * @throws {RangeError} when `message` is not such a frame or `source` is not 32 bytes.
 *
 * @example
 * ```ts
 * import { encodeRelayFrame, relayDatagramInPlace } from "./frames.ts";
 * const destination = new Uint8Array(32).fill(2);
 * const source = new Uint8Array(32).fill(1);
 * const payload = Uint8Array.of(7);
 * const sent = encodeRelayFrame({ type: "client-to-relay-datagram", destination, ecn: 0, payload }, 2);
 * const forwarded = relayDatagramInPlace(sent, source);
 * // forwarded equals encodeRelayFrame({ type: "relay-to-client-datagram", source, ecn: 0, payload }, 2)
 * ```
 */
export function relayDatagramInPlace(message: Uint8Array, source: Uint8Array): Uint8Array {
  requireLength("relay-to-client-datagram", "source", source, KEY_LENGTH);
  const tag = readQuicVarint(message, 0);
  const batch = tag?.value === WIRE.clientToRelayDatagramBatch;
  const payloadStart = (tag?.end ?? 0) + KEY_LENGTH + 1 + (batch ? 2 : 0);
  if (
    !tag || (!batch && tag.value !== WIRE.clientToRelayDatagram) || message.length < payloadStart
  ) {
    throw new RangeError("Cannot forward: the message is not a client-to-relay datagram frame");
  }
  const ecn = message[tag.end + KEY_LENGTH] & 0b11;
  // iroh reads segment size 0 as one datagram and sends it on without one.
  const single = !batch || (message[payloadStart - 2] === 0 && message[payloadStart - 1] === 0);
  // The new header ends where the old one did; a batch's segment size stays where it is.
  const out = message.subarray(
    payloadStart - (single ? DATAGRAM_HEADER_LENGTH : BATCH_HEADER_LENGTH),
  );
  out[0] = single ? WIRE.relayToClientDatagram : WIRE.relayToClientDatagramBatch;
  out.set(source, 1);
  out[DATAGRAM_HEADER_LENGTH - 1] = ecn;
  return out;
}

function fail(type: string, why: string): never {
  throw new RelayFrameError(`Cannot decode ${type}: ${why}`);
}

function requireBody(type: string, body: Uint8Array, length: number, exact: boolean): void {
  if (exact ? body.length !== length : body.length < length) {
    fail(type, `expected ${exact ? "" : "at least "}${length} bytes, got ${body.length}`);
  }
}

function decodeText(type: string, bytes: Uint8Array): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    fail(type, "text is not valid UTF-8");
  }
}

function decodeDatagram(
  type: "client-to-relay-datagram" | "relay-to-client-datagram",
  body: Uint8Array,
  batch: boolean,
): RelayFrame {
  const header = KEY_LENGTH + 1 + (batch ? 2 : 0);
  requireBody(type, body, header, false);
  const key = body.subarray(0, KEY_LENGTH);
  // Like iroh (noq's EcnCodepoint::from_bits), only the two low bits count.
  const ecn = body[KEY_LENGTH] & 0b11;
  const payload = body.subarray(header);
  // iroh reads a segment size of 0 as "no segment size": one datagram.
  const size = batch ? (body[KEY_LENGTH + 1] << 8) | body[KEY_LENGTH + 2] : 0;
  const segment = size === 0 ? {} : { segmentSize: size };
  return type === "client-to-relay-datagram"
    ? { type, destination: key, ecn, payload, ...segment }
    : { type, source: key, ecn, payload, ...segment };
}

/**
 * Decodes one WebSocket binary message into a frame. Accepts what iroh accepts, of
 * either sender (see {@linkcode RELAY_FRAME_SENDER}); like iroh's postcard decoding,
 * bytes after a handshake frame's fields are ignored, and so are bytes after a
 * status code. Public keys are not checked to be curve points (iroh does check).
 *
 * @param message The message; byte fields of the result are views into it.
 * @param version The negotiated protocol version.
 * @returns The frame.
 * @throws {RelayFrameError} on any malformed, oversized or unknown frame, or one the
 * version does not allow (health in v2, status in v1); never anything else for any
 * bytes.
 * @throws {RangeError} for a version other than 1 or 2.
 *
 * @example
 * ```ts
 * import { decodeRelayFrame } from "./frames.ts";
 * const frame = decodeRelayFrame(Uint8Array.of(0x0d, 0x01), 2);
 * // { type: "status", status: "same-endpoint-elsewhere" }
 * ```
 */
export function decodeRelayFrame(message: Uint8Array, version: RelayProtocolVersion): RelayFrame {
  checkVersion(version);
  if (message.length > MAX_FRAME_SIZE) {
    fail("relay frame", `message of ${message.length} bytes exceeds ${MAX_FRAME_SIZE}`);
  }
  const tag = readQuicVarint(message, 0);
  if (tag === undefined) fail("relay frame", "the message ends inside the frame type");
  const body = message.subarray(tag.end);
  if (tag.value > WIRE.serverDeniesAuth && body.length > MAX_PACKET_SIZE) {
    fail("relay frame", `body of ${body.length} bytes exceeds ${MAX_PACKET_SIZE}`);
  }
  switch (tag.value) {
    case WIRE.serverChallenge:
      requireBody("server-challenge", body, CHALLENGE_LENGTH, false);
      return { type: "server-challenge", challenge: body.subarray(0, CHALLENGE_LENGTH) };
    case WIRE.clientAuth: {
      const type = "client-auth";
      requireBody(type, body, KEY_LENGTH + 1, false);
      const length = readLeb128(body, KEY_LENGTH);
      if (!length) fail(type, "bad signature length");
      if (length.value !== SIGNATURE_LENGTH) fail(type, `signature of ${length.value} bytes`);
      requireBody(type, body, length.end + SIGNATURE_LENGTH, false);
      return {
        type,
        publicKey: body.subarray(0, KEY_LENGTH),
        signature: body.subarray(length.end, length.end + SIGNATURE_LENGTH),
      };
    }
    case WIRE.serverConfirmsAuth:
      return { type: "server-confirms-auth" };
    case WIRE.serverDeniesAuth: {
      const type = "server-denies-auth";
      const length = readLeb128(body, 0);
      if (!length) fail(type, "bad reason length");
      if (length.value > body.length - length.end) {
        fail(type, `reason of ${length.value} bytes in a body of ${body.length}`);
      }
      return {
        type,
        reason: decodeText(type, body.subarray(length.end, length.end + length.value)),
      };
    }
    case WIRE.clientToRelayDatagram:
    case WIRE.clientToRelayDatagramBatch:
      return decodeDatagram(
        "client-to-relay-datagram",
        body,
        tag.value === WIRE.clientToRelayDatagramBatch,
      );
    case WIRE.relayToClientDatagram:
    case WIRE.relayToClientDatagramBatch:
      return decodeDatagram(
        "relay-to-client-datagram",
        body,
        tag.value === WIRE.relayToClientDatagramBatch,
      );
    case WIRE.endpointGone:
      requireBody("endpoint-gone", body, KEY_LENGTH, true);
      return { type: "endpoint-gone", endpoint: body };
    case WIRE.ping:
    case WIRE.pong: {
      const type = tag.value === WIRE.ping ? "ping" : "pong";
      requireBody(type, body, PING_LENGTH, true);
      return { type, data: body };
    }
    case WIRE.health:
      if (version !== 1) fail("health", "relay protocol v2 does not allow it");
      return { type: "health", problem: decodeText("health", body) };
    case WIRE.restarting: {
      requireBody("restarting", body, 8, true);
      const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
      return { type: "restarting", reconnectInMs: view.getUint32(0), tryForMs: view.getUint32(4) };
    }
    case WIRE.status: {
      if (version !== 2) fail("status", "relay protocol v1 does not allow it");
      requireBody("status", body, 1, false);
      const code = body[0];
      return code < STATUS_NAMES.length
        ? { type: "status", status: STATUS_NAMES[code] }
        : { type: "status", status: "unknown", code };
    }
  }
  fail("relay frame", `unknown frame type ${tag.value}`);
}

/**
 * The frame a relay sends to tell a client its connection status, as iroh's relay
 * does: a status frame in v2; in v1 a health frame with a sentence, or nothing for
 * "rate-limited" (iroh does not tell v1 clients about rate limits).
 *
 * @param status The status to report.
 * @param version The client's protocol version.
 * @returns The frame to send, or undefined when there is nothing to send.
 *
 * @example
 * ```ts
 * import { statusFrameFor } from "./frames.ts";
 * statusFrameFor("same-endpoint-elsewhere", 2); // { type: "status", status: "same-endpoint-elsewhere" }
 * ```
 */
export function statusFrameFor(
  status: Exclude<RelayStatus, "unknown">,
  version: RelayProtocolVersion,
): RelayFrame | undefined {
  checkVersion(version);
  if (version === 2) return { type: "status", status };
  if (status === "healthy") return { type: "health", problem: "The connection is healthy again." };
  if (status === "same-endpoint-elsewhere") {
    return {
      type: "health",
      problem: "A newer connection of this endpoint id took over; this one receives nothing more.",
    };
  }
  return undefined;
}
