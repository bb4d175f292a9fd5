/**
 * A STUN Binding responder (RFC 5389, kept by RFC 8489), sans-IO: a datagram
 * and its source in, the answer out. It tells a client the address its
 * packets arrive from, which is how an endpoint behind NAT learns its
 * server-reflexive address.
 * @module
 */
import { parseIp } from "../net/mod.ts";
import { _crc32 } from "./_crc32.ts";

const HEADER_SIZE = 20;
const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;
const XOR_MAPPED_ADDRESS = 0x0020;
const ERROR_CODE = 0x0009;
const UNKNOWN_ATTRIBUTES = 0x000a;
const MESSAGE_INTEGRITY = 0x0008;
const MESSAGE_INTEGRITY_SHA256 = 0x001c;
const FINGERPRINT = 0x8028;
/** XORed into the CRC so a FINGERPRINT never matches an application's own CRC-32. */
const FINGERPRINT_XOR = 0x5354554e;
const UNKNOWN_ATTRIBUTE_REASON = new TextEncoder().encode("Unknown Attribute");

/**
 * Comprehension-required attributes (type below 0x8000) a Binding request may
 * carry that this responder can answer despite: authentication and ICE
 * attributes it has no use for (it authenticates nobody), and address
 * attributes that only belong in responses. Anything else in that range, such
 * as RFC 5780's CHANGE-REQUEST, gets the 420 error RFC 5389 requires, so a
 * client learns the feature is absent instead of trusting a plain answer.
 */
const UNDERSTOOD = new Set([
  0x0001, // MAPPED-ADDRESS
  0x0006, // USERNAME
  MESSAGE_INTEGRITY,
  ERROR_CODE,
  UNKNOWN_ATTRIBUTES,
  0x0014, // REALM
  0x0015, // NONCE
  MESSAGE_INTEGRITY_SHA256,
  0x001d, // PASSWORD-ALGORITHM (RFC 8489)
  0x001e, // USERHASH (RFC 8489)
  XOR_MAPPED_ADDRESS,
  0x0024, // PRIORITY (ICE)
  0x0025, // USE-CANDIDATE (ICE)
]);

/**
 * Answers a STUN Binding request.
 *
 * A well-formed Binding request (magic cookie, length, attribute layout and,
 * when present, a correct FINGERPRINT) gets a Binding success response with
 * the same transaction id, an XOR-MAPPED-ADDRESS of `from` (IPv4 or IPv6) and
 * a FINGERPRINT. A request with comprehension-required attributes this
 * responder does not know gets a 420 error listing them. Everything else
 * (responses, indications, other methods, classic RFC 3489 messages without
 * the magic cookie, garbage) is ignored.
 *
 * @param request The datagram as received.
 * @param from Its source: an IP literal (an IPv4-mapped IPv6 address counts as
 *   IPv4; a `%zone` suffix is dropped) and a port.
 * @returns the datagram to send back to `from`, or `undefined`. Never throws.
 * @example
 * ```ts
 * const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 3478 });
 * for await (const [datagram, from] of socket) {
 *   const answer = stunResponse(datagram, from as Deno.NetAddr);
 *   if (answer) await socket.send(answer, from);
 * }
 * ```
 */
export function stunResponse(
  request: Uint8Array,
  from: { hostname: string; port: number },
): Uint8Array | undefined {
  try {
    const unknown = _checkBindingRequest(request);
    if (unknown === undefined) return undefined;
    const transactionId = request.subarray(8, HEADER_SIZE);
    if (unknown.length > 0) return errorResponse(transactionId, unknown);
    const address = parseSource(from);
    if (!address) return undefined;
    return message(BINDING_SUCCESS, transactionId, [
      [XOR_MAPPED_ADDRESS, xorAddress(address.ip, address.port, transactionId)],
    ]);
  } catch {
    // Every path above is bounds-checked (the tests fuzz the parser without this
    // guard); it only keeps a socket loop alive should that ever be wrong.
    return undefined;
  }
}

/**
 * The unknown comprehension-required attributes of a valid Binding request,
 * else undefined. Bounds-checked throughout: tests call it bare, without the
 * guard in {@linkcode stunResponse}, to show it never throws.
 */
export function _checkBindingRequest(bytes: Uint8Array): number[] | undefined {
  if (bytes.length < HEADER_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== BINDING_REQUEST) return undefined;
  const length = view.getUint16(2);
  if (length !== bytes.length - HEADER_SIZE || length % 4 !== 0) return undefined;
  if (view.getUint32(4) !== MAGIC_COOKIE) return undefined;
  const unknown = new Set<number>();
  let afterIntegrity = false;
  for (let offset = HEADER_SIZE; offset < bytes.length;) {
    if (offset + 4 > bytes.length) return undefined;
    const type = view.getUint16(offset);
    const valueLength = view.getUint16(offset + 2);
    const next = offset + 4 + Math.ceil(valueLength / 4) * 4;
    if (next > bytes.length) return undefined;
    if (type === FINGERPRINT) {
      // Last attribute, over everything before it (the header's length already counts it).
      if (valueLength !== 4 || next !== bytes.length) return undefined;
      const expected = (_crc32(bytes.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0;
      if (view.getUint32(offset + 4) !== expected) return undefined;
    } else if (!afterIntegrity && type < 0x8000 && !UNDERSTOOD.has(type)) {
      // RFC 5389 15.4: attributes after MESSAGE-INTEGRITY (but FINGERPRINT) are ignored.
      unknown.add(type);
    }
    if (type === MESSAGE_INTEGRITY || type === MESSAGE_INTEGRITY_SHA256) afterIntegrity = true;
    offset = next;
  }
  return [...unknown];
}

function parseSource(from: { hostname: string; port: number }) {
  const { port } = from;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const ip = parseIp(String(from.hostname).replace(/%.*$/, ""));
  return ip ? { ip, port } : undefined;
}

/** XOR-MAPPED-ADDRESS value: port XOR the cookie's top half, address XOR cookie (+ id for IPv6). */
function xorAddress(ip: Uint8Array, port: number, transactionId: Uint8Array): Uint8Array {
  const value = new Uint8Array(4 + ip.length);
  const view = new DataView(value.buffer);
  view.setUint16(0, ip.length === 4 ? 0x01 : 0x02);
  view.setUint16(2, port ^ (MAGIC_COOKIE >>> 16));
  const mask = new Uint8Array(16);
  new DataView(mask.buffer).setUint32(0, MAGIC_COOKIE);
  mask.set(transactionId, 4);
  for (let i = 0; i < ip.length; i++) value[4 + i] = ip[i] ^ mask[i];
  return value;
}

/** 420 Unknown Attribute, with the offending types in UNKNOWN-ATTRIBUTES. */
function errorResponse(transactionId: Uint8Array, unknown: number[]): Uint8Array {
  // All of them fit: a datagram holds at most ~16 thousand attributes, 2 bytes each here.
  const errorCode = new Uint8Array(4 + UNKNOWN_ATTRIBUTE_REASON.length);
  errorCode[2] = 4; // class: 4xx
  errorCode[3] = 20; // number: 420
  errorCode.set(UNKNOWN_ATTRIBUTE_REASON, 4);
  const list = new Uint8Array(unknown.length * 2);
  unknown.forEach((type, i) => new DataView(list.buffer).setUint16(i * 2, type));
  return message(BINDING_ERROR, transactionId, [[ERROR_CODE, errorCode], [
    UNKNOWN_ATTRIBUTES,
    list,
  ]]);
}

/** A message with `attributes` (zero-padded to 4 bytes) and a FINGERPRINT. */
function message(
  type: number,
  transactionId: Uint8Array,
  attributes: [number, Uint8Array][],
): Uint8Array {
  const bodyLength = attributes.reduce(
    (sum, [, value]) => sum + 4 + Math.ceil(value.length / 4) * 4,
    0,
  );
  const out = new Uint8Array(HEADER_SIZE + bodyLength + 8);
  const view = new DataView(out.buffer);
  view.setUint16(0, type);
  view.setUint16(2, bodyLength + 8);
  view.setUint32(4, MAGIC_COOKIE);
  out.set(transactionId, 8);
  let offset = HEADER_SIZE;
  for (const [attributeType, value] of attributes) {
    view.setUint16(offset, attributeType);
    view.setUint16(offset + 2, value.length);
    out.set(value, offset + 4);
    offset += 4 + Math.ceil(value.length / 4) * 4;
  }
  view.setUint16(offset, FINGERPRINT);
  view.setUint16(offset + 2, 4);
  view.setUint32(offset + 4, (_crc32(out.subarray(0, offset)) ^ FINGERPRINT_XOR) >>> 0);
  return out;
}
