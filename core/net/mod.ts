/**
 * IP addresses and networks: IPv4 and IPv6 literals to bytes and back, and
 * CIDR prefixes. Pure functions and values, no I/O.
 *
 * ```ts
 * import { Cidr, formatIp, parseIp } from "./mod.ts";
 * const ip = parseIp("::ffff:127.0.0.1")!; // IPv4-mapped: the 4 bytes of 127.0.0.1
 * formatIp(ip); // "127.0.0.1"
 * Cidr.parse("127.0.0.0/8").contains(ip); // true
 * ```
 * @module
 */
export { formatIp, type IpBytes, ipv4FromNumber, ipv4ToNumber, parseIp } from "./ip.ts";
export { Cidr, CidrError } from "./cidr.ts";
export { addressGroup } from "./address_group.ts";
export { isLocalAddress, isLoopbackAddress } from "./local_address.ts";
export { type Ipv4Scope, ipv4Scope } from "./ipv4_scope.ts";
