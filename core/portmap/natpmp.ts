/**
 * NAT-PMP (RFC 6886): the external-address request and UDP mapping requests. Sans-IO.
 * @module
 */
import { GatewayRefusal, PortMapError } from "./errors.ts";
import { ipv4Text } from "./ipv4.ts";

/** The NAT-PMP server port on the gateway. */
export const NAT_PMP_PORT = 5351;
const UDP_MAP_OPCODE = 1;

const RESULTS: Record<number, string> = {
  1: "unsupported version",
  2: "not authorized",
  3: "network failure",
  4: "out of resources",
  5: "unsupported opcode",
};

/** The 2-byte external address request. */
export function encodeNatPmpAddressRequest(): Uint8Array {
  return new Uint8Array([0, 0]);
}

/** A UDP mapping request (12 bytes). `lifetimeSeconds` 0 deletes the mapping. */
export function encodeNatPmpMap(
  internalPort: number,
  suggestedExternalPort: number,
  lifetimeSeconds: number,
): Uint8Array {
  for (const port of [internalPort, suggestedExternalPort]) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new PortMapError(`NAT-PMP: ${port} is not a port`);
    }
  }
  if (internalPort === 0) throw new PortMapError("NAT-PMP: internal port 0");
  if (!Number.isInteger(lifetimeSeconds) || lifetimeSeconds < 0 || lifetimeSeconds > 0xffff_ffff) {
    throw new PortMapError(`NAT-PMP: lifetime ${lifetimeSeconds} out of range`);
  }
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  bytes[1] = UDP_MAP_OPCODE;
  view.setUint16(4, internalPort);
  view.setUint16(6, suggestedExternalPort);
  view.setUint32(8, lifetimeSeconds);
  return bytes;
}

function header(datagram: Uint8Array, opcode: number, size: number): DataView {
  if (datagram.length !== size) {
    // An error answer may be the 8-byte header alone (RFC 6886 section 3.5).
    if (datagram.length >= 4 && datagram.length < size && datagram[0] === 0) {
      const result = (datagram[2] << 8) | datagram[3];
      if (datagram[1] === 128 + opcode && result !== 0) {
        throw new GatewayRefusal(`NAT-PMP: the gateway refused: ${RESULTS[result] ?? result}`);
      }
    }
    throw new PortMapError(`NAT-PMP answer of ${datagram.length} bytes (want ${size})`);
  }
  if (datagram[0] !== 0) throw new PortMapError(`NAT-PMP answer version ${datagram[0]}`);
  if (datagram[1] !== 128 + opcode) {
    throw new PortMapError(`NAT-PMP answer opcode ${datagram[1]} (want ${128 + opcode})`);
  }
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
  const result = view.getUint16(2);
  if (result !== 0) {
    throw new GatewayRefusal(
      `NAT-PMP: the gateway refused: ${RESULTS[result] ?? `result ${result}`}`,
    );
  }
  return view;
}

/** Decodes the 12-byte external address answer. */
export function decodeNatPmpAddress(datagram: Uint8Array): { externalAddress: string } {
  header(datagram, 0, 12);
  return { externalAddress: ipv4Text(datagram.subarray(8, 12)) };
}

/** A successful UDP mapping answer. */
export interface NatPmpMapAnswer {
  epochSeconds: number;
  internalPort: number;
  externalPort: number;
  lifetimeSeconds: number;
}

/**
 * Decodes the 16-byte UDP mapping answer and checks it against the request: the internal
 * port echoed and, unless it was a deletion, a non-zero external port and lifetime.
 */
export function decodeNatPmpMap(
  datagram: Uint8Array,
  internalPort: number,
  requestedLifetime: number,
): NatPmpMapAnswer {
  const view = header(datagram, UDP_MAP_OPCODE, 16);
  const answer = {
    epochSeconds: view.getUint32(4),
    internalPort: view.getUint16(8),
    externalPort: view.getUint16(10),
    lifetimeSeconds: view.getUint32(12),
  };
  if (answer.internalPort !== internalPort) {
    throw new PortMapError(
      `NAT-PMP answer for internal port ${answer.internalPort} (asked ${internalPort})`,
    );
  }
  if (requestedLifetime > 0 && (answer.externalPort === 0 || answer.lifetimeSeconds === 0)) {
    throw new PortMapError("NAT-PMP answer maps external port 0 or grants a lifetime of 0");
  }
  return answer;
}
