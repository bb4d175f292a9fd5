/**
 * The key under which a server counts a peer against per-address caps and
 * rates (the relay's unauthenticated places, the record store's writes): its
 * IPv4 address, or the /64 network of its IPv6 address (a host is commonly
 * given a whole /64, so counting single IPv6 addresses would cap nothing).
 * @module
 */
import { parseIp } from "./ip.ts";

/**
 * The admission key of `address` (a socket's remote address).
 *
 * @example
 * ```ts
 * addressGroup("192.0.2.7"); // "192.0.2.7"
 * addressGroup("::ffff:192.0.2.7"); // "192.0.2.7"
 * addressGroup("2001:db8:1:2:a::1"); // "2001:db8:1:2::/64"
 * ```
 */
export function addressGroup(address: string): string {
  const bytes = parseIp(address);
  // Not an IP literal (a test's fake socket): counted under its own text.
  if (!bytes) return address;
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${groups.join(":")}::/64`;
}
