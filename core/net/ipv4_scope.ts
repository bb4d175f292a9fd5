/**
 * Where an IPv4 address belongs (RFC 6890's special-purpose ranges, the ones
 * this program has to tell apart): one table for every place that decides
 * whether an address is worth publishing, probing or trusting as a router's
 * external address, each drawing its own line through the same scopes.
 * @module
 */

/** The scope of an IPv4 address. */
export type Ipv4Scope =
  /** 0.0.0.0/8: "this network", never a destination. */
  | "this-network"
  /** 127.0.0.0/8. */
  | "loopback"
  /** 10/8, 172.16/12, 192.168/16 (RFC 1918). */
  | "private"
  /** 100.64.0.0/10: shared address space inside a carrier-grade NAT (RFC 6598). */
  | "shared"
  /** 169.254.0.0/16. */
  | "link-local"
  /** 224.0.0.0/3: multicast, reserved, broadcast. */
  | "multicast-reserved"
  /** Everything else: reachable across the internet, as far as the address says. */
  | "public";

const RANGES: readonly { first: number; bits: number; scope: Ipv4Scope }[] = [
  { first: 0x00000000, bits: 8, scope: "this-network" },
  { first: 0x0a000000, bits: 8, scope: "private" },
  { first: 0x64400000, bits: 10, scope: "shared" },
  { first: 0x7f000000, bits: 8, scope: "loopback" },
  { first: 0xa9fe0000, bits: 16, scope: "link-local" },
  { first: 0xac100000, bits: 12, scope: "private" },
  { first: 0xc0a80000, bits: 16, scope: "private" },
  { first: 0xe0000000, bits: 3, scope: "multicast-reserved" },
];

/**
 * The scope of the IPv4 address in `bytes` (4 bytes, as `parseIp` gives an
 * IPv4 or IPv4-mapped address).
 * @throws {RangeError} unless `bytes` holds 4 bytes.
 */
export function ipv4Scope(bytes: Uint8Array): Ipv4Scope {
  if (bytes.length !== 4) {
    throw new RangeError(`Cannot classify ${bytes.length} bytes as an IPv4 address`);
  }
  const value = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
  for (const { first, bits, scope } of RANGES) {
    if (value >>> (32 - bits) === first >>> (32 - bits)) return scope;
  }
  return "public";
}
