/**
 * IP address literals: parsing IPv4 and IPv6 text to bytes and formatting bytes back.
 * @module
 */

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

/**
 * Parses an IPv4 or IPv6 literal (brackets and zone ids not accepted).
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is returned as the IPv4 address it maps,
 * so one rule covers both spellings.
 *
 * @param text The literal, e.g. `"192.0.2.1"` or `"2001:db8::1"`.
 * @returns the bytes, or `undefined` when `text` is not an IP literal.
 * @example
 * ```ts
 * parseIp("::ffff:127.0.0.1"); // Uint8Array [127, 0, 0, 1]
 * parseIp("example.com"); // undefined
 * ```
 */
export function parseIp(text: string): IpBytes | undefined {
  const v4 = parseIpv4(text);
  if (v4) return v4;
  const v6 = parseIpv6(text);
  if (!v6) return undefined;
  const mapped = v6.subarray(0, 12).every((b, i) => b === (i < 10 ? 0 : 0xff));
  return mapped ? v6.slice(12) : v6;
}

function parseIpv4(text: string): IpBytes | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // Leading zeros are refused: some parsers read them as octal, which would let
    // one text mean two addresses.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return undefined;
    const value = Number(parts[i]);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseIpv6(text: string): IpBytes | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  let head = text;
  let tailV4: IpBytes | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".")) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (!tailV4) return undefined;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const toGroups = (s: string) => (s === "" ? [] : s.split(":"));
  const left = toGroups(halves[0]);
  const right = halves.length === 2 ? toGroups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return undefined;
    const value = parseInt(groups[i], 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  if (tailV4) bytes.set(tailV4, 12);
  return bytes;
}

/**
 * Formats address bytes the usual way: dotted IPv4, IPv6 compressed per RFC 5952.
 *
 * @param ip 4 or 16 bytes, as {@linkcode parseIp} returns them.
 * @returns the literal, e.g. `"2001:db8::1"`.
 * @example
 * ```ts
 * formatIp(parseIp("2001:db8:0:0:1:0:0:1")!); // "2001:db8::1:0:0:1"
 * ```
 */
export function formatIp(ip: IpBytes): string {
  if (ip.length === 4) return ip.join(".");
  const groups = Array.from({ length: 8 }, (_, i) => (ip[i * 2] << 8) | ip[i * 2 + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/**
 * The IPv4 address at `offset` of `bytes` (an address, or an IPv4 header at
 * offset 12 or 16) as an unsigned 32-bit number: a cheap map key.
 *
 * @example
 * ```ts
 * ipv4ToNumber(Uint8Array.of(10, 0, 0, 1)); // 167772161
 * ```
 */
export function ipv4ToNumber(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) |
    bytes[offset + 3]) >>> 0;
}

/**
 * The IPv4 address of an unsigned 32-bit number (the inverse of {@linkcode ipv4ToNumber}).
 *
 * @example
 * ```ts
 * formatIp(ipv4FromNumber(167772161)); // "10.0.0.1"
 * ```
 */
export function ipv4FromNumber(n: number): IpBytes {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
