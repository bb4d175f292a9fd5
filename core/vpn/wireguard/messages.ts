/**
 * WireGuard's four messages as fixed-size byte layouts (sans-IO). Integers are
 * little-endian; every message starts with its type in the first byte and
 * three zero bytes. Decoders reject any other length with a
 * {@link WireGuardMessageError}; decoded fields are views into the input,
 * valid as long as the caller keeps it unchanged.
 * @module
 */

/** Type byte of a handshake initiation. */
export const MESSAGE_INITIATION = 1;
/** Type byte of a handshake response. */
export const MESSAGE_RESPONSE = 2;
/** Type byte of a cookie reply. */
export const MESSAGE_COOKIE_REPLY = 3;
/** Type byte of a transport data message. */
export const MESSAGE_TRANSPORT = 4;

/** Size of a handshake initiation. */
export const INITIATION_SIZE = 148;
/** Size of a handshake response. */
export const RESPONSE_SIZE = 92;
/** Size of a cookie reply. */
export const COOKIE_REPLY_SIZE = 64;
/** Size of a transport message's header (type, receiver index, counter). */
export const TRANSPORT_HEADER_SIZE = 16;
/** Size of a Poly1305 tag. */
export const TAG_SIZE = 16;
/** Smallest transport message: an empty (keepalive) payload. */
export const KEEPALIVE_SIZE = TRANSPORT_HEADER_SIZE + TAG_SIZE;
/**
 * Largest transport message accepted: a 64 KiB IP packet plus header and tag.
 * No IP packet is larger, so anything beyond is garbage.
 */
export const MAX_TRANSPORT_SIZE = 65_535 + 15 + KEEPALIVE_SIZE;

/** A handshake initiation (type 1). */
export interface Initiation {
  /** The initiator's index for this handshake. */
  sender: number;
  /** Unencrypted ephemeral public key (32 bytes). */
  ephemeral: Uint8Array;
  /** The initiator's static public key, encrypted (48 bytes). */
  encryptedStatic: Uint8Array;
  /** TAI64N timestamp, encrypted (28 bytes). */
  encryptedTimestamp: Uint8Array;
  /** 16 bytes. */
  mac1: Uint8Array;
  /** 16 bytes. */
  mac2: Uint8Array;
}

/** A handshake response (type 2). */
export interface Response {
  /** The responder's index for this handshake. */
  sender: number;
  /** The initiator's index, from its initiation. */
  receiver: number;
  /** Unencrypted ephemeral public key (32 bytes). */
  ephemeral: Uint8Array;
  /** An empty payload, encrypted: its tag alone (16 bytes). */
  encryptedNothing: Uint8Array;
  /** 16 bytes. */
  mac1: Uint8Array;
  /** 16 bytes. */
  mac2: Uint8Array;
}

/** A cookie reply (type 3). */
export interface CookieReply {
  /** The sender index of the message it answers. */
  receiver: number;
  /** XChaCha20-Poly1305 nonce (24 bytes). */
  nonce: Uint8Array;
  /** The 16-byte cookie, encrypted (32 bytes). */
  encryptedCookie: Uint8Array;
}

/** The header of a transport message (type 4); the ciphertext follows it. */
export interface TransportHeader {
  /** The receiving end's index of the session. */
  receiver: number;
  /** The message's nonce counter (exact up to 2^53 - 1). */
  counter: number;
}

/** A message that is not a well-formed WireGuard message. */
export class WireGuardMessageError extends Error {
  /** @param message What is wrong with the message. */
  constructor(message: string) {
    super(message);
    this.name = "WireGuardMessageError";
  }
}

/**
 * The type of a message (1 to 4), or 0 when its first four bytes are not a
 * WireGuard type. Lengths are checked by the decoders.
 */
export function messageType(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[1] !== 0 || bytes[2] !== 0 || bytes[3] !== 0) return 0;
  const type = bytes[0];
  return type >= MESSAGE_INITIATION && type <= MESSAGE_TRANSPORT ? type : 0;
}

/** Encodes an initiation into 148 bytes. */
export function encodeInitiation(message: Initiation): Uint8Array {
  const bytes = start(INITIATION_SIZE, MESSAGE_INITIATION);
  const view = viewOf(bytes);
  view.setUint32(4, message.sender, true);
  put(bytes, 8, message.ephemeral, 32);
  put(bytes, 40, message.encryptedStatic, 48);
  put(bytes, 88, message.encryptedTimestamp, 28);
  put(bytes, 116, message.mac1, 16);
  put(bytes, 132, message.mac2, 16);
  return bytes;
}

/**
 * Decodes an initiation.
 * @throws {WireGuardMessageError} for a wrong type or length.
 */
export function decodeInitiation(bytes: Uint8Array): Initiation {
  check(bytes, MESSAGE_INITIATION, INITIATION_SIZE, "initiation");
  return {
    sender: viewOf(bytes).getUint32(4, true),
    ephemeral: bytes.subarray(8, 40),
    encryptedStatic: bytes.subarray(40, 88),
    encryptedTimestamp: bytes.subarray(88, 116),
    mac1: bytes.subarray(116, 132),
    mac2: bytes.subarray(132, 148),
  };
}

/** Encodes a response into 92 bytes. */
export function encodeResponse(message: Response): Uint8Array {
  const bytes = start(RESPONSE_SIZE, MESSAGE_RESPONSE);
  const view = viewOf(bytes);
  view.setUint32(4, message.sender, true);
  view.setUint32(8, message.receiver, true);
  put(bytes, 12, message.ephemeral, 32);
  put(bytes, 44, message.encryptedNothing, 16);
  put(bytes, 60, message.mac1, 16);
  put(bytes, 76, message.mac2, 16);
  return bytes;
}

/**
 * Decodes a response.
 * @throws {WireGuardMessageError} for a wrong type or length.
 */
export function decodeResponse(bytes: Uint8Array): Response {
  check(bytes, MESSAGE_RESPONSE, RESPONSE_SIZE, "response");
  const view = viewOf(bytes);
  return {
    sender: view.getUint32(4, true),
    receiver: view.getUint32(8, true),
    ephemeral: bytes.subarray(12, 44),
    encryptedNothing: bytes.subarray(44, 60),
    mac1: bytes.subarray(60, 76),
    mac2: bytes.subarray(76, 92),
  };
}

/** Encodes a cookie reply into 64 bytes. */
export function encodeCookieReply(message: CookieReply): Uint8Array {
  const bytes = start(COOKIE_REPLY_SIZE, MESSAGE_COOKIE_REPLY);
  viewOf(bytes).setUint32(4, message.receiver, true);
  put(bytes, 8, message.nonce, 24);
  put(bytes, 32, message.encryptedCookie, 32);
  return bytes;
}

/**
 * Decodes a cookie reply.
 * @throws {WireGuardMessageError} for a wrong type or length.
 */
export function decodeCookieReply(bytes: Uint8Array): CookieReply {
  check(bytes, MESSAGE_COOKIE_REPLY, COOKIE_REPLY_SIZE, "cookie reply");
  return {
    receiver: viewOf(bytes).getUint32(4, true),
    nonce: bytes.subarray(8, 32),
    encryptedCookie: bytes.subarray(32, 64),
  };
}

/**
 * Writes a transport header into the first 16 bytes of `bytes` (the caller
 * places the ciphertext after it).
 */
export function writeTransportHeader(bytes: Uint8Array, header: TransportHeader): void {
  const view = viewOf(bytes);
  view.setUint32(0, MESSAGE_TRANSPORT, true);
  view.setUint32(4, header.receiver, true);
  view.setUint32(8, header.counter % 0x1_0000_0000, true);
  view.setUint32(12, Math.floor(header.counter / 0x1_0000_0000), true);
}

/**
 * Decodes a transport message's header; the ciphertext is `bytes.subarray(16)`.
 * @throws {WireGuardMessageError} for a wrong type or a length outside
 * 32..{@link MAX_TRANSPORT_SIZE}. Any length in between is fine: senders pad to
 * 16 bytes but not past their MTU, which need not be a multiple of 16.
 */
export function decodeTransportHeader(bytes: Uint8Array): TransportHeader {
  if (messageType(bytes) !== MESSAGE_TRANSPORT) {
    throw new WireGuardMessageError("Cannot decode a WireGuard transport message: wrong type");
  }
  if (bytes.length < KEEPALIVE_SIZE || bytes.length > MAX_TRANSPORT_SIZE) {
    throw new WireGuardMessageError(
      `Cannot decode a WireGuard transport message: ${bytes.length} bytes, expected ${KEEPALIVE_SIZE} to ${MAX_TRANSPORT_SIZE}`,
    );
  }
  const view = viewOf(bytes);
  const high = view.getUint32(12, true);
  // Counters past 2^53 cannot be exact numbers; the replay window refuses them.
  const counter = high >= 0x20_0000 ? Infinity : high * 0x1_0000_0000 + view.getUint32(8, true);
  return { receiver: view.getUint32(4, true), counter };
}

function start(size: number, type: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes[0] = type;
  return bytes;
}

function put(bytes: Uint8Array, offset: number, field: Uint8Array, size: number): void {
  if (field.length !== size) {
    throw new RangeError(
      `Cannot encode a WireGuard message: a field of ${field.length} bytes, expected ${size}`,
    );
  }
  bytes.set(field, offset);
}

function check(bytes: Uint8Array, type: number, size: number, name: string): void {
  if (messageType(bytes) !== type) {
    throw new WireGuardMessageError(`Cannot decode a WireGuard ${name}: wrong type`);
  }
  if (bytes.length !== size) {
    throw new WireGuardMessageError(
      `Cannot decode a WireGuard ${name}: ${bytes.length} bytes, expected ${size}`,
    );
  }
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
