/**
 * The tunnel protocol's messages and their framing on QUIC streams (sans-IO).
 *
 * Every message on a stream is a frame: type (u8), payload length (u16, big-endian),
 * payload. Each type has its own size limit, checked before any payload is buffered,
 * so a hostile peer cannot make a reader hold more than one frame's limit.
 * See docs/PROTOCOL.md.
 * @module
 */

import { type PathKind, pathKindByWireCode, pathKindInfo } from "../transport/mod.ts";

/** ALPN of this protocol version; a peer speaking another version fails the handshake. */
export const ALPN = "tunnel/4";

/** Outcome of authentication, as carried in an AuthResponse. */
export const AuthStatus = {
  Ok: 0,
  InvalidCredential: 1,
  ServerFull: 2,
} as const;
/** One of {@linkcode AuthStatus}. */
export type AuthStatus = typeof AuthStatus[keyof typeof AuthStatus];

/** A decoded message. */
export type Message =
  | { type: "auth-request"; credential: Uint8Array }
  | { type: "auth-response"; status: AuthStatus; reason: string }
  | { type: "auth-key-request"; publicKey: Uint8Array }
  | { type: "auth-challenge"; nonce: Uint8Array }
  | { type: "auth-key-proof"; signature: Uint8Array }
  | { type: "source-request"; source: string }
  | { type: "source-response"; accepted: boolean; reason: string }
  | { type: "tcp-open"; pipeId: number }
  | { type: "tcp-stripe"; pipeId: number; index: number }
  | { type: "tcp-result"; connected: boolean; reason: string }
  | { type: "udp-packet"; flowId: number; payload: Uint8Array }
  | { type: "path-hello"; kind: PathKind; label: string }
  | { type: "path-ping"; nonce: number }
  | { type: "path-pong"; nonce: number }
  | { type: "path-offer"; body: Uint8Array }
  | { type: "path-answer"; body: Uint8Array }
  | { type: "path-join"; secret: Uint8Array }
  | { type: "vpn-hello"; publicKey: Uint8Array }
  | { type: "vpn-config"; config: VpnConfig }
  | { type: "wireguard-message"; message: Uint8Array };

/** What a VPN server tells its client once the session is accepted. */
export interface VpnConfig {
  /** The server's WireGuard public key for this session (32 bytes). */
  serverPublicKey: Uint8Array;
  /** A WireGuard preshared key for this session (32 bytes). */
  presharedKey: Uint8Array;
  /** The client's VPN address (IPv4, 4 bytes). */
  clientAddress: Uint8Array;
  /** Prefix length of the VPN network. */
  prefixLength: number;
  /** The server's VPN address (IPv4, 4 bytes). */
  serverAddress: Uint8Array;
  /** The server device's MTU. */
  mtu: number;
}

/**
 * Largest WireGuard message a VPN session carries on a stream: a packet of the
 * largest MTU VPN mode accepts (9,000, jumbo frames), padded to 16 bytes, with
 * WireGuard's 32 bytes of header and tag.
 */
export const MAX_WIREGUARD_MESSAGE: number = 9_000 + 16 + 32;

const VPN_CONFIG_BYTES = 32 + 32 + 4 + 1 + 4 + 2;

/** Largest body of a path-offer or path-answer (ICE parameters and a secret). */
export const MAX_PATH_SIGNAL = 4_096;

/** Largest UDP payload carried (the IPv4 UDP maximum). */
export const MAX_UDP_PAYLOAD = 65_507;

// One registry of frame types, so two messages can never share an id.
const TYPE_IDS = {
  "auth-request": 0x01,
  "auth-response": 0x02,
  "source-request": 0x03,
  "source-response": 0x04,
  "tcp-open": 0x05,
  "udp-packet": 0x06,
  "tcp-result": 0x07,
  "path-hello": 0x08,
  "path-ping": 0x09,
  "path-pong": 0x0a,
  "path-offer": 0x0b,
  "path-answer": 0x0c,
  "path-join": 0x0d,
  "vpn-hello": 0x0e,
  "vpn-config": 0x0f,
  "wireguard-message": 0x10,
  "tcp-stripe": 0x11,
  "auth-key-request": 0x12,
  "auth-challenge": 0x13,
  "auth-key-proof": 0x14,
} as const satisfies Record<Message["type"], number>;

// Limits: a token is 18 bytes and a manual-mode secret 32, 256 leaves room for both;
// a source URL is at most 300; reasons are short sentences; a UDP packet carries a
// 4-byte flow id.
const MAX_PAYLOAD: Record<number, number> = {
  0x01: 256,
  0x02: 1 + 1024,
  0x03: 300,
  0x04: 1 + 1024,
  0x05: 4,
  0x06: 4 + MAX_UDP_PAYLOAD,
  0x07: 1 + 1024,
  0x08: 1 + 512,
  0x09: 4,
  0x0a: 4,
  0x0b: MAX_PATH_SIGNAL,
  0x0c: MAX_PATH_SIGNAL,
  0x0d: 32,
  0x0e: 32,
  0x0f: VPN_CONFIG_BYTES,
  0x10: MAX_WIREGUARD_MESSAGE,
  0x11: 5,
  // Client keys: an Ed25519 public key, a 32-byte nonce, an Ed25519 signature.
  0x12: 32,
  0x13: 32,
  0x14: 64,
};

const HEADER = 3;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A peer sent something this protocol does not allow. */
export class ProtocolError extends Error {
  /** Always "ProtocolError". */
  override name = "ProtocolError";
}

function payloadOf(message: Message): Uint8Array {
  switch (message.type) {
    case "auth-request":
      return message.credential;
    case "auth-key-request":
      return fixedLength(message.type, message.publicKey, 32);
    case "auth-challenge":
      return fixedLength(message.type, message.nonce, 32);
    case "auth-key-proof":
      return fixedLength(message.type, message.signature, 64);
    case "auth-response":
      return Uint8Array.of(message.status, ...encoder.encode(message.reason.slice(0, 512)));
    case "source-request":
      return encoder.encode(message.source);
    case "source-response":
      return Uint8Array.of(
        message.accepted ? 1 : 0,
        ...encoder.encode(message.reason.slice(0, 512)),
      );
    case "tcp-result":
      return Uint8Array.of(
        message.connected ? 1 : 0,
        ...encoder.encode(message.reason.slice(0, 512)),
      );
    case "tcp-open": {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, message.pipeId >>> 0);
      return out;
    }
    case "tcp-stripe": {
      const out = new Uint8Array(5);
      new DataView(out.buffer).setUint32(0, message.pipeId >>> 0);
      out[4] = message.index;
      return out;
    }
    case "udp-packet": {
      const out = new Uint8Array(4 + message.payload.length);
      new DataView(out.buffer).setUint32(0, message.flowId);
      out.set(message.payload, 4);
      return out;
    }
    case "path-hello":
      return Uint8Array.of(
        wireCodeOf(message.kind),
        ...encoder.encode(message.label.slice(0, 256)),
      );
    case "path-ping":
    case "path-pong": {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, message.nonce >>> 0);
      return out;
    }
    case "path-offer":
    case "path-answer":
      return message.body;
    case "path-join":
      return message.secret;
    case "vpn-hello":
      return message.publicKey;
    case "vpn-config":
      return encodeVpnConfig(message.config);
    case "wireguard-message":
      return message.message;
  }
}

/**
 * Encodes one message as a frame.
 * @throws {RangeError} when the message exceeds its type's limit.
 */
export function encodeMessage(message: Message): Uint8Array {
  const id = TYPE_IDS[message.type];
  const payload = payloadOf(message);
  if (payload.length > MAX_PAYLOAD[id]) {
    throw new RangeError(
      `Cannot encode ${message.type}: ${payload.length} bytes exceeds the limit of ${
        MAX_PAYLOAD[id]
      }`,
    );
  }
  const frame = new Uint8Array(HEADER + payload.length);
  frame[0] = id;
  frame[1] = payload.length >> 8;
  frame[2] = payload.length & 0xff;
  frame.set(payload, HEADER);
  return frame;
}

/**
 * Encodes a UDP payload of flow `flowId` as a udp-packet frame in one
 * allocation (the hot path of UDP forwarding over a stream).
 * @throws {RangeError} when the payload exceeds {@linkcode MAX_UDP_PAYLOAD}.
 */
export function encodeUdpPacketFrame(flowId: number, payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_UDP_PAYLOAD) {
    throw new RangeError(
      `Cannot encode udp-packet: ${payload.length} bytes exceeds the limit of ${MAX_UDP_PAYLOAD}`,
    );
  }
  const length = 4 + payload.length;
  const frame = new Uint8Array(HEADER + length);
  frame[0] = TYPE_IDS["udp-packet"];
  frame[1] = length >> 8;
  frame[2] = length & 0xff;
  new DataView(frame.buffer).setUint32(HEADER, flowId);
  frame.set(payload, HEADER + 4);
  return frame;
}

/**
 * Encodes WireGuard messages as consecutive wireguard-message frames in one
 * buffer (the hot path of a VPN session's packet stream: one allocation and
 * one stream write per batch).
 * @throws {RangeError} when a message is empty or exceeds {@linkcode MAX_WIREGUARD_MESSAGE}.
 */
export function encodeWireGuardFrames(messages: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const message of messages) {
    if (message.length === 0 || message.length > MAX_WIREGUARD_MESSAGE) {
      throw new RangeError(
        `Cannot encode wireguard-message: ${message.length} bytes (1 to ${MAX_WIREGUARD_MESSAGE})`,
      );
    }
    total += HEADER + message.length;
  }
  const frames = new Uint8Array(total);
  let offset = 0;
  for (const message of messages) {
    frames[offset] = TYPE_IDS["wireguard-message"];
    frames[offset + 1] = message.length >> 8;
    frames[offset + 2] = message.length & 0xff;
    frames.set(message, offset + HEADER);
    offset += HEADER + message.length;
  }
  return frames;
}

function decodePayload(id: number, payload: Uint8Array): Message {
  const text = (bytes: Uint8Array) => {
    try {
      return decoder.decode(bytes);
    } catch {
      throw new ProtocolError("text is not valid UTF-8");
    }
  };
  switch (id) {
    case 0x01:
      return { type: "auth-request", credential: payload.slice() };
    case 0x12:
      if (payload.length !== 32) {
        throw new ProtocolError("auth-key-request without its 32-byte key");
      }
      return { type: "auth-key-request", publicKey: payload.slice() };
    case 0x13:
      if (payload.length !== 32) {
        throw new ProtocolError("auth-challenge without its 32-byte nonce");
      }
      return { type: "auth-challenge", nonce: payload.slice() };
    case 0x14:
      if (payload.length !== 64) {
        throw new ProtocolError("auth-key-proof without its 64-byte signature");
      }
      return { type: "auth-key-proof", signature: payload.slice() };
    case 0x02: {
      if (payload.length < 1) throw new ProtocolError("auth-response without status");
      const status = payload[0];
      if (status > AuthStatus.ServerFull) throw new ProtocolError(`unknown auth status ${status}`);
      return {
        type: "auth-response",
        status: status as AuthStatus,
        reason: text(payload.subarray(1)),
      };
    }
    case 0x03:
      return { type: "source-request", source: text(payload) };
    case 0x04:
      if (payload.length < 1 || payload[0] > 1) {
        throw new ProtocolError("source-response without a valid status");
      }
      return {
        type: "source-response",
        accepted: payload[0] === 1,
        reason: text(payload.subarray(1)),
      };
    case 0x05:
      if (payload.length !== 4) throw new ProtocolError("tcp-open without its 4-byte pipe id");
      return {
        type: "tcp-open",
        pipeId: new DataView(payload.buffer, payload.byteOffset).getUint32(0),
      };
    case 0x11:
      if (payload.length !== 5) {
        throw new ProtocolError("tcp-stripe without its pipe id and stripe index");
      }
      return {
        type: "tcp-stripe",
        pipeId: new DataView(payload.buffer, payload.byteOffset).getUint32(0),
        index: payload[4],
      };
    case 0x07:
      if (payload.length < 1 || payload[0] > 1) {
        throw new ProtocolError("tcp-result without a valid status");
      }
      return {
        type: "tcp-result",
        connected: payload[0] === 1,
        reason: text(payload.subarray(1)),
      };
    case 0x06: {
      if (payload.length < 4) throw new ProtocolError("udp-packet shorter than its flow id");
      const flowId = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
      return { type: "udp-packet", flowId, payload: payload.slice(4) };
    }
    case 0x08: {
      const kind = payload.length < 1 ? undefined : pathKindByWireCode(payload[0]);
      if (!kind) throw new ProtocolError("path-hello without a valid path kind");
      return { type: "path-hello", kind: kind.kind, label: text(payload.subarray(1)) };
    }
    case 0x09:
    case 0x0a: {
      if (payload.length !== 4) throw new ProtocolError("path probe without its 4-byte nonce");
      const nonce = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
      return { type: id === 0x09 ? "path-ping" : "path-pong", nonce };
    }
    case 0x0b:
      return { type: "path-offer", body: payload.slice() };
    case 0x0c:
      return { type: "path-answer", body: payload.slice() };
    case 0x0d:
      if (payload.length !== 32) throw new ProtocolError("path-join without its 32-byte secret");
      return { type: "path-join", secret: payload.slice() };
    case 0x0e:
      if (payload.length !== 32) throw new ProtocolError("vpn-hello without its 32-byte key");
      return { type: "vpn-hello", publicKey: payload.slice() };
    case 0x0f:
      return { type: "vpn-config", config: decodeVpnConfig(payload) };
    case 0x10:
      if (payload.length === 0) throw new ProtocolError("empty wireguard-message");
      // A view: the bytes a stream delivered are never written again, and a
      // copy per packet is the VPN's hot path.
      return { type: "wireguard-message", message: payload };
  }
  throw new ProtocolError(`unknown frame type 0x${id.toString(16)}`);
}

/** `bytes`, which a frame of `type` carries at exactly `length` bytes. @throws {RangeError} otherwise. */
function fixedLength(type: string, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length !== length) {
    throw new RangeError(`Cannot encode ${type}: ${bytes.length} bytes, expected ${length}`);
  }
  return bytes;
}

function encodeVpnConfig(config: VpnConfig): Uint8Array {
  const sizes = [config.serverPublicKey, config.presharedKey, config.clientAddress];
  if (
    sizes[0].length !== 32 || sizes[1].length !== 32 || sizes[2].length !== 4 ||
    config.serverAddress.length !== 4
  ) {
    throw new RangeError("Cannot encode vpn-config: keys are 32 bytes and addresses IPv4");
  }
  const out = new Uint8Array(VPN_CONFIG_BYTES);
  out.set(config.serverPublicKey, 0);
  out.set(config.presharedKey, 32);
  out.set(config.clientAddress, 64);
  out[68] = config.prefixLength;
  out.set(config.serverAddress, 69);
  new DataView(out.buffer).setUint16(73, config.mtu);
  return out;
}

function decodeVpnConfig(payload: Uint8Array): VpnConfig {
  if (payload.length !== VPN_CONFIG_BYTES) {
    throw new ProtocolError(`vpn-config of ${payload.length} bytes, expected ${VPN_CONFIG_BYTES}`);
  }
  const prefixLength = payload[68];
  const mtu = (payload[73] << 8) | payload[74];
  if (prefixLength > 30) throw new ProtocolError(`vpn-config with prefix length ${prefixLength}`);
  if (mtu < 576 || mtu > 9_000) throw new ProtocolError(`vpn-config with MTU ${mtu}`);
  return {
    serverPublicKey: payload.slice(0, 32),
    presharedKey: payload.slice(32, 64),
    clientAddress: payload.slice(64, 68),
    prefixLength,
    serverAddress: payload.slice(69, 73),
    mtu,
  };
}

/**
 * Splits a byte stream into messages. Feed it chunks as they arrive; it returns
 * the complete messages and keeps the rest.
 */
export class FrameDecoder {
  #buffer: Uint8Array = new Uint8Array(0);

  /**
   * Adds received bytes and returns every message now complete.
   * @throws {ProtocolError} on an unknown type or a length over the type's limit.
   */
  push(chunk: Uint8Array): Message[] {
    const messages: Message[] = [];
    // A frame cut by the previous chunk takes only the bytes it lacks: joining the
    // whole chunk would copy every byte of a bulk stream once more.
    let rest = chunk;
    while (this.#buffer.length > 0 && rest.length > 0) {
      const buffer = this.#buffer;
      const lacking = buffer.length < HEADER
        ? HEADER - buffer.length
        : HEADER + ((buffer[1] << 8) | buffer[2]) - buffer.length;
      const take = Math.min(lacking, rest.length);
      this.#buffer = concat(buffer, rest.subarray(0, take));
      rest = rest.subarray(take);
      const message = this.#next();
      if (message) messages.push(message);
    }
    if (rest.length === 0) return messages;
    this.#buffer = this.#buffer.length === 0 ? rest : concat(this.#buffer, rest);
    for (;;) {
      const message = this.#next();
      if (!message) return messages;
      messages.push(message);
    }
  }

  /**
   * Decodes at most one message from the bytes added so far; with a message, what
   * follows it stays buffered for {@linkcode takeRemainder}.
   */
  pushOne(chunk: Uint8Array): Message | undefined {
    this.#buffer = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    return this.#next();
  }

  /** Returns and clears the bytes buffered after the last decoded message. */
  takeRemainder(): Uint8Array {
    const rest = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return rest;
  }

  /** Whether a partial frame is buffered (a stream ending now was cut mid-frame). */
  get hasPartialFrame(): boolean {
    return this.#buffer.length > 0;
  }

  #next(): Message | undefined {
    const buffer = this.#buffer;
    if (buffer.length < 1) return undefined;
    const limit = MAX_PAYLOAD[buffer[0]];
    if (limit === undefined) {
      throw new ProtocolError(`unknown frame type 0x${buffer[0].toString(16)}`);
    }
    if (buffer.length < HEADER) return undefined;
    const length = (buffer[1] << 8) | buffer[2];
    if (length > limit) {
      throw new ProtocolError(
        `frame of ${length} bytes exceeds the limit of ${limit} for its type`,
      );
    }
    if (buffer.length < HEADER + length) return undefined;
    const message = decodePayload(buffer[0], buffer.subarray(HEADER, HEADER + length));
    this.#buffer = buffer.subarray(HEADER + length);
    return message;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Size of the flow id that prefixes every UDP payload sent as a QUIC datagram. */
export const DATAGRAM_HEADER = 4;

/** Encodes a UDP payload of flow `flowId` as a QUIC datagram. */
export function encodeDatagram(flowId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(DATAGRAM_HEADER + payload.length);
  new DataView(out.buffer).setUint32(0, flowId);
  out.set(payload, DATAGRAM_HEADER);
  return out;
}

/**
 * Decodes a QUIC datagram into flow id and UDP payload (a view, not a copy).
 * @throws {ProtocolError} when it is shorter than the flow id.
 */
export function decodeDatagram(datagram: Uint8Array): { flowId: number; payload: Uint8Array } {
  if (datagram.length < DATAGRAM_HEADER) {
    throw new ProtocolError("datagram shorter than its flow id");
  }
  const flowId = new DataView(datagram.buffer, datagram.byteOffset).getUint32(0);
  return { flowId, payload: datagram.subarray(DATAGRAM_HEADER) };
}

/** The PathHello byte of `kind`. @throws {ProtocolError} for a kind never registered. */
function wireCodeOf(kind: PathKind): number {
  const info = pathKindInfo(kind);
  if (!info) throw new ProtocolError(`path kind '${kind}' is not registered`);
  return info.wireCode;
}
