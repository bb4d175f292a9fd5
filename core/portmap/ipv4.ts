/**
 * IPv4 text and byte forms, and what an external address reported by a gateway is worth.
 * @module
 */
import { ipv4Scope } from "../net/mod.ts";
import { PortMapError } from "./errors.ts";

/** Parses dotted-quad IPv4 text into 4 bytes; throws {@link PortMapError} otherwise. */
export function ipv4Bytes(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p))) {
    throw new PortMapError(`not an IPv4 address: ${JSON.stringify(text.slice(0, 40))}`);
  }
  const bytes = new Uint8Array(parts.map(Number));
  if (parts.some((p) => Number(p) > 255)) {
    throw new PortMapError(`not an IPv4 address: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return bytes;
}

/** Dotted-quad text of 4 bytes. */
export function ipv4Text(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join(".");
}

/** True for dotted-quad IPv4 text. */
export function isIpv4(text: string): boolean {
  try {
    ipv4Bytes(text);
    return true;
  } catch {
    return false;
  }
}

function inPrefix(bytes: Uint8Array, prefix: [number, number, number, number], bits: number) {
  const value = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  const base = ((prefix[0] << 24) | (prefix[1] << 16) | (prefix[2] << 8) | prefix[3]) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((value & mask) >>> 0) === ((base & mask) >>> 0);
}

/**
 * What an external address is worth to peers elsewhere on the Internet:
 * - `public`: any unicast address not listed below, the documentation ranges included
 *   (the test bed's "Internet" is 198.51.100.0/24, TEST-NET-2);
 * - `cgnat`: 100.64.0.0/10 (RFC 6598), the router is itself behind a carrier NAT: the
 *   mapping is kept and marked, it reaches peers inside that carrier network only;
 * - `unusable`: 0.0.0.0/8, loopback, link-local, RFC 1918 private, multicast, reserved and
 *   broadcast: a peer outside the LAN cannot send to it, so the answer is refused.
 */
export type ExternalAddressKind = "public" | "cgnat" | "unusable";

/** Classifies an external IPv4 address (see {@link ExternalAddressKind}). */
export function externalAddressKind(text: string): ExternalAddressKind {
  const scope = ipv4Scope(ipv4Bytes(text));
  return scope === "public" ? "public" : scope === "shared" ? "cgnat" : "unusable";
}

/** True when `a` and `b` share their first `bits` bits. */
export function sameSubnet(a: string, b: string, bits: number): boolean {
  const bb = ipv4Bytes(b);
  return inPrefix(ipv4Bytes(a), [bb[0], bb[1], bb[2], bb[3]], bits);
}

/** Number of leading one bits of a dotted-quad netmask ("255.255.255.0" is 24). */
export function prefixLength(netmask: string): number {
  const b = ipv4Bytes(netmask);
  const value = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  let bits = 0;
  while (bits < 32 && (value & (0x8000_0000 >>> bits)) !== 0) bits++;
  return bits;
}
