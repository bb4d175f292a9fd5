/**
 * The READY datagram two agents exchange over the nominated path before
 * either closes its ICE sockets (see `_ready_handshake.ts` for why).
 *
 * Layout (all lengths one byte, port big-endian):
 *
 * | bytes | field |
 * | --- | --- |
 * | 4 | magic `FF 74 6E 52` |
 * | 1 | version, 1 |
 * | 1 | flags: bit 0 = "I have heard your READY" |
 * | 1 + n | sender's ICE ufrag |
 * | 1 + n | recipient's ICE ufrag |
 * | 1 + n | recipient's address as the sender sends to it (ASCII literal IP) |
 * | 2 | recipient's port as the sender sends to it |
 *
 * The first byte 0xFF can never start a STUN message (whose two top bits are
 * zero), so werift would treat it as application data; we intercept it first.
 *
 * @module
 */

import { isIP } from "node:net";
import type { _Address } from "./_werift.ts";

/** A decoded READY datagram. */
export interface _ReadyMessage {
  /** The sender has received a READY from the recipient. */
  heardYou: boolean;
  /** ufrag of the agent that sent this. */
  senderUfrag: string;
  /** ufrag of the agent this is for: lets a stale datagram from another session be dropped. */
  recipientUfrag: string;
  /** Where the sender sends to: the recipient's address as seen from the other side of any NAT. */
  observed: _Address;
}

const MAGIC = [0xff, 0x74, 0x6e, 0x52];
const VERSION = 1;
const FLAG_HEARD_YOU = 0x01;
// A field is length-prefixed by one byte.
const MAX_FIELD = 255;

/** True when the datagram claims to be a READY (magic matches); it may still fail to decode. */
export function _isReadyDatagram(data: Uint8Array): boolean {
  return data.length >= MAGIC.length && MAGIC.every((byte, i) => data[i] === byte);
}

/**
 * Encodes a READY datagram.
 *
 * @throws {RangeError} when a text field is longer than 255 bytes or the port is out of range.
 */
export function _encodeReady(message: _ReadyMessage): Uint8Array {
  const encoder = new TextEncoder();
  const fields = [message.senderUfrag, message.recipientUfrag, message.observed[0]]
    .map((text) => encoder.encode(text));
  const port = message.observed[1];
  if (
    fields.some((field) => field.length > MAX_FIELD) || !Number.isInteger(port) || port < 0 ||
    port > 0xffff
  ) {
    throw new RangeError("Cannot encode READY: a field is out of range");
  }
  const length = MAGIC.length + 2 + fields.reduce((sum, f) => sum + 1 + f.length, 0) + 2;
  const out = new Uint8Array(length);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  out[at++] = VERSION;
  out[at++] = message.heardYou ? FLAG_HEARD_YOU : 0;
  for (const field of fields) {
    out[at++] = field.length;
    out.set(field, at);
    at += field.length;
  }
  out[at++] = port >> 8;
  out[at++] = port & 0xff;
  return out;
}

/** Decodes a READY datagram; returns `undefined` for anything malformed, never throws. */
export function _decodeReady(data: Uint8Array): _ReadyMessage | undefined {
  if (!_isReadyDatagram(data) || data.length < MAGIC.length + 2) return undefined;
  let at = MAGIC.length;
  if (data[at++] !== VERSION) return undefined;
  const flags = data[at++];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const texts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const length = data[at++];
    if (length === undefined || at + length > data.length) return undefined;
    try {
      texts.push(decoder.decode(data.subarray(at, at + length)));
    } catch {
      return undefined;
    }
    at += length;
  }
  if (at + 2 !== data.length) return undefined;
  const port = (data[at] << 8) | data[at + 1];
  const [senderUfrag, recipientUfrag, address] = texts;
  if (senderUfrag === "" || recipientUfrag === "" || isIP(address) === 0) return undefined;
  return {
    heardYou: (flags & FLAG_HEARD_YOU) !== 0,
    senderUfrag,
    recipientUfrag,
    observed: [address, port],
  };
}
