/**
 * PCP (RFC 6887) MAP requests and answers for one UDP port, IPv4 only. Sans-IO.
 * @module
 */
import { GatewayRefusal, PortMapError } from "./errors.ts";
import { ipv4Bytes, ipv4Text } from "./ipv4.ts";

/** The PCP server port on the gateway (shared with NAT-PMP). */
export const PCP_PORT = 5351;
/** Largest PCP message (RFC 6887 section 7). */
export const PCP_MAX_MESSAGE = 1100;
const MAP_SIZE = 60; // 24-byte header + 36-byte MAP opcode body
const VERSION = 2;
const OPCODE_MAP = 1;
const UDP = 17;

/** RFC 6887 result codes, by number, for messages. */
const RESULTS: Record<number, string> = {
  1: "UNSUPP_VERSION",
  2: "NOT_AUTHORIZED",
  3: "MALFORMED_REQUEST",
  4: "UNSUPP_OPCODE",
  5: "UNSUPP_OPTION",
  6: "MALFORMED_OPTION",
  7: "NETWORK_FAILURE",
  8: "NO_RESOURCES",
  9: "UNSUPP_PROTOCOL",
  10: "USER_EX_QUOTA",
  11: "CANNOT_PROVIDE_EXTERNAL",
  12: "ADDRESS_MISMATCH",
  13: "EXCESSIVE_REMOTE_PEERS",
};

/** What a MAP request asks for. `lifetimeSeconds` 0 deletes the mapping. */
export interface PcpMapRequest {
  /** 12 random bytes; the answer must echo them (RFC 6887 section 11.2). */
  nonce: Uint8Array;
  /** This host's address as the gateway sees it (the source of the request). */
  clientAddress: string;
  internalPort: number;
  suggestedExternalPort: number;
  /** Suggested external address, "0.0.0.0" for any. */
  suggestedExternalAddress: string;
  lifetimeSeconds: number;
}

/** A successful MAP answer. */
export interface PcpMapAnswer {
  lifetimeSeconds: number;
  epochSeconds: number;
  externalAddress: string;
  externalPort: number;
}

// IPv4-mapped IPv6 (::ffff:a.b.c.d), the form PCP carries IPv4 addresses in.
function writeMapped(view: Uint8Array, offset: number, address: string): void {
  view.fill(0, offset, offset + 16);
  view[offset + 10] = 0xff;
  view[offset + 11] = 0xff;
  view.set(ipv4Bytes(address), offset + 12);
}

function readMapped(bytes: Uint8Array, offset: number): string {
  const prefix = bytes.subarray(offset, offset + 12);
  const mapped = prefix.every((b, i) => i < 10 ? b === 0 : b === 0xff);
  if (!mapped) throw new PortMapError("PCP answer: external address is not IPv4-mapped");
  return ipv4Text(bytes.subarray(offset + 12, offset + 16));
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PortMapError(`PCP: ${what} ${port} is not a port`);
  }
}

/** Encodes a 60-byte MAP request for UDP. */
export function encodePcpMap(request: PcpMapRequest): Uint8Array {
  if (request.nonce.length !== 12) throw new PortMapError("PCP: the nonce must be 12 bytes");
  checkPort(request.internalPort, "internal port");
  checkPort(request.suggestedExternalPort, "suggested external port");
  if (request.internalPort === 0) throw new PortMapError("PCP: internal port 0");
  const lifetime = request.lifetimeSeconds;
  if (!Number.isInteger(lifetime) || lifetime < 0 || lifetime > 0xffff_ffff) {
    throw new PortMapError(`PCP: lifetime ${lifetime} out of range`);
  }
  const bytes = new Uint8Array(MAP_SIZE);
  const view = new DataView(bytes.buffer);
  bytes[0] = VERSION;
  bytes[1] = OPCODE_MAP; // R bit clear: a request
  view.setUint32(4, lifetime);
  writeMapped(bytes, 8, request.clientAddress);
  bytes.set(request.nonce, 24);
  bytes[36] = UDP;
  view.setUint16(40, request.internalPort);
  view.setUint16(42, request.suggestedExternalPort);
  writeMapped(bytes, 44, request.suggestedExternalAddress);
  return bytes;
}

/**
 * True when `datagram` is the NAT-PMP "unsupported version" answer a NAT-PMP-only gateway
 * sends to a PCP request (RFC 6887 section 9): the client moves on to NAT-PMP at once.
 */
export function isNatPmpVersionRefusal(datagram: Uint8Array): boolean {
  return datagram.length >= 4 && datagram.length <= 16 && datagram[0] === 0 &&
    (datagram[1] & 0x80) !== 0 && ((datagram[2] << 8) | datagram[3]) === 1;
}

/**
 * Decodes and checks a MAP answer against its request: size (60 to 1,100 bytes, a multiple
 * of 4), version 2, the response bit and MAP opcode, success, the nonce, protocol and
 * internal port echoed, and for a non-zero request lifetime a non-zero granted lifetime.
 * Options after the MAP body are skipped (none is needed for MAP without filters).
 */
export function decodePcpMap(datagram: Uint8Array, request: PcpMapRequest): PcpMapAnswer {
  const n = datagram.length;
  if (n > PCP_MAX_MESSAGE) throw new PortMapError(`PCP answer over ${PCP_MAX_MESSAGE} bytes`);
  if (n < MAP_SIZE || n % 4 !== 0) {
    throw new PortMapError(`PCP answer of ${n} bytes (want 60 to 1100, a multiple of 4)`);
  }
  if (datagram[0] !== VERSION) throw new PortMapError(`PCP answer version ${datagram[0]}`);
  if (datagram[1] !== (0x80 | OPCODE_MAP)) {
    throw new PortMapError(`PCP answer opcode byte 0x${datagram[1].toString(16)} (want 0x81)`);
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, n);
  const result = datagram[3];
  if (result !== 0) {
    throw new GatewayRefusal(`PCP: the gateway refused: ${RESULTS[result] ?? `result ${result}`}`);
  }
  const nonce = datagram.subarray(24, 36);
  if (!nonce.every((b, i) => b === request.nonce[i])) {
    throw new PortMapError("PCP answer does not echo the request's nonce");
  }
  if (datagram[36] !== UDP) throw new PortMapError(`PCP answer for protocol ${datagram[36]}`);
  const internalPort = view.getUint16(40);
  if (internalPort !== request.internalPort) {
    throw new PortMapError(
      `PCP answer for internal port ${internalPort} (asked ${request.internalPort})`,
    );
  }
  const lifetimeSeconds = view.getUint32(4);
  const externalPort = view.getUint16(42);
  if (request.lifetimeSeconds > 0) {
    if (lifetimeSeconds === 0) throw new PortMapError("PCP answer grants a lifetime of 0");
    if (externalPort === 0) throw new PortMapError("PCP answer maps external port 0");
  }
  return {
    lifetimeSeconds,
    epochSeconds: view.getUint32(8),
    externalAddress: readMapped(datagram, 44),
    externalPort,
  };
}
