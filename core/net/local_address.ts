/**
 * Whether a host is on this machine or its local network, by its address.
 * @module
 */
import { ipv4Scope } from "./ipv4_scope.ts";
import { parseIp } from "./ip.ts";

/**
 * True for `localhost`, loopback, private (RFC 1918), link-local and unique-local
 * (fc00::/7) addresses, with or without brackets or a zone; false for any other
 * address and for names, which may resolve anywhere.
 */
export function isLocalAddress(hostname: string): boolean {
  // A zone (fe80::1%eth0) names the interface, not the address.
  const bare = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (bare === "localhost") return true;
  // parseIp gives an IPv4-mapped IPv6 address as its 4 IPv4 bytes.
  const ip = parseIp(bare);
  if (!ip) return false;
  if (ip.length === 4) {
    return ["loopback", "private", "link-local"].includes(ipv4Scope(ip));
  }
  const loopback = ip.every((byte, i) => byte === (i === 15 ? 1 : 0));
  return loopback || (ip[0] & 0xfe) === 0xfc || (ip[0] === 0xfe && (ip[1] & 0xc0) === 0x80);
}

/**
 * True for `localhost` and loopback addresses (127.0.0.0/8, `::1`, IPv4-mapped
 * loopback), with or without brackets; false for anything else, names included.
 */
export function isLoopbackAddress(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (bare === "localhost") return true;
  const ip = parseIp(bare);
  if (!ip) return false;
  if (ip.length === 4) return ip[0] === 127;
  return ip.every((byte, i) => byte === (i === 15 ? 1 : 0));
}
