/**
 * Networks in CIDR notation, IPv4 and IPv6.
 * @module
 */
import { formatIp, type IpBytes, parseIp } from "./ip.ts";

/** A network that does not parse: what was given and what is wrong with it. */
export class CidrError extends TypeError {
  /** Always "CidrError". */
  override name = "CidrError";
  /** The text as given. */
  readonly text: string;
  /** What is wrong, with an example of the form. */
  readonly detail: string;

  /**
   * Builds the error.
   * @param text the text as given
   * @param detail what is wrong, with an example of the form
   */
  constructor(text: string, detail: string) {
    super(`Invalid CIDR '${text}': ${detail}`);
    this.text = text;
    this.detail = detail;
  }
}

/** One network: address bytes and prefix length. */
export class Cidr {
  readonly #network: IpBytes;
  /** Leading bits that name the network (for an IPv4-mapped rule, of the IPv4 address). */
  readonly prefix: number;
  /** The network as written, trimmed. */
  readonly text: string;

  private constructor(network: IpBytes, prefix: number, text: string) {
    this.#network = network;
    this.prefix = prefix;
    this.text = text;
  }

  /**
   * Parses `a.b.c.d/n` or `v6::/n`; a bare address means a single host.
   *
   * @throws {CidrError} naming the bad value.
   * @example
   * ```ts
   * Cidr.parse("10.0.0.0/8").prefix; // 8
   * Cidr.parse("10.0.0.1/8"); // throws: host bits are set
   * ```
   */
  static parse(text: string): Cidr {
    const trimmed = text.trim();
    const [addressText, prefixText, ...rest] = trimmed.split("/");
    const fail = (why: string) => new CidrError(text, `${why} (example: 127.0.0.0/8 or ::1/128)`);
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

  /**
   * The network of `prefix` leading bits that holds `address` (its host bits
   * cleared): the network an interface address belongs to.
   *
   * @throws {RangeError} when `prefix` does not fit the address family.
   * @example
   * ```ts
   * Cidr.containing(parseIp("10.0.0.2")!, 24).text; // "10.0.0.0/24"
   * ```
   */
  static containing(address: IpBytes, prefix: number): Cidr {
    const bits = address.length * 8;
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
      throw new RangeError(`Cannot make a /${prefix} network: the address has ${bits} bits`);
    }
    const network = address.slice();
    for (let bit = prefix; bit < bits; bit++) network[bit >> 3] &= ~(0x80 >> (bit % 8));
    return new Cidr(network, prefix, `${formatIp(network)}/${prefix}`);
  }

  /** The network's address (host bits zero), a copy. */
  get address(): IpBytes {
    return this.#network.slice();
  }

  /**
   * Whether `ip` lies in this network (IPv4-mapped IPv6 counts as IPv4).
   *
   * @example
   * ```ts
   * Cidr.parse("127.0.0.0/8").contains(parseIp("::ffff:127.0.0.1")!); // true
   * ```
   */
  contains(ip: IpBytes): boolean {
    return ip.length === this.#network.length && matchesPrefix(this.#network, ip, this.prefix);
  }
}

function matchesPrefix(
  network: IpBytes,
  ip: IpBytes,
  prefix: number,
  hostBitsZero = false,
): boolean {
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
