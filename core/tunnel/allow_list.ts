/**
 * Networks a server lets clients reach, in CIDR notation, IPv4 and IPv6.
 * @module
 */

/** An IP address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

/**
 * Parses an IPv4 or IPv6 literal (brackets and zone ids not accepted).
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is returned as the IPv4 address it maps,
 * so one rule covers both spellings.
 * @returns the bytes, or `undefined` when `text` is not an IP literal.
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

/** One network: address bytes and prefix length. */
export class Cidr {
  readonly #network: IpBytes;
  readonly prefix: number;
  readonly text: string;

  private constructor(network: IpBytes, prefix: number, text: string) {
    this.#network = network;
    this.prefix = prefix;
    this.text = text;
  }

  /**
   * Parses `a.b.c.d/n` or `v6::/n`; a bare address means a single host.
   * @throws {TypeError} naming the bad value.
   */
  static parse(text: string): Cidr {
    const trimmed = text.trim();
    const [addressText, prefixText, ...rest] = trimmed.split("/");
    const fail = (why: string) =>
      new TypeError(`Invalid CIDR '${text}': ${why} (example: 127.0.0.0/8 or ::1/128)`);
    if (rest.length > 0) throw fail("more than one '/'");
    const network = parseIp(addressText);
    if (!network) throw fail(`'${addressText}' is not an IP address`);
    const mappedV4 = network.length === 4 && addressText.includes(":");
    const bits = mappedV4 ? 128 : network.length * 8;
    let prefix = bits;
    if (prefixText !== undefined) {
      if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
        throw fail(`prefix must be 0 to ${bits}`);
      }
      prefix = Number(prefixText);
      // A mapped IPv6 rule (::ffff:0:0/96 and longer) narrows onto IPv4 bits.
      if (mappedV4) {
        if (prefix < 96) throw fail("an IPv4-mapped network needs a prefix of 96 or more");
        prefix -= 96;
      }
    }
    if (!matchesPrefix(network, network, prefix, true)) {
      throw fail("host bits are set; did you mean the network address?");
    }
    return new Cidr(network, prefix, trimmed);
  }

  /** Whether `ip` lies in this network (IPv4-mapped IPv6 counts as IPv4). */
  contains(ip: IpBytes): boolean {
    return ip.length === this.#network.length && matchesPrefix(this.#network, ip, this.prefix);
  }
}

function matchesPrefix(network: IpBytes, ip: IpBytes, prefix: number, hostBitsZero = false) {
  for (let bit = 0; bit < network.length * 8; bit++) {
    const mask = 0x80 >> (bit % 8);
    const byte = bit >> 3;
    if (bit < prefix) {
      if ((network[byte] & mask) !== (ip[byte] & mask)) return false;
    } else if (hostBitsZero && (network[byte] & mask) !== 0) {
      return false;
    }
  }
  return true;
}

/** The networks a server allows for one protocol. Empty means nothing is allowed. */
export class AllowList {
  readonly networks: readonly Cidr[];

  /** @throws {TypeError} naming the first invalid CIDR. */
  constructor(cidrs: Iterable<string>) {
    this.networks = [...cidrs].map((c) => Cidr.parse(c));
  }

  /** Whether any network contains `ip`. */
  allows(ip: IpBytes): boolean {
    return this.networks.some((network) => network.contains(ip));
  }
}

/** Formats address bytes the usual way (IPv6 compressed per RFC 5952). */
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
