/**
 * Networks a server lets clients reach, in CIDR notation, IPv4 and IPv6.
 * @module
 */
import { Cidr, type IpBytes } from "../net/mod.ts";

/** The networks a server allows for one protocol. Empty means nothing is allowed. */
export class AllowList {
  /** The allowed networks, as parsed. */
  readonly networks: readonly Cidr[];

  /**
   * Parses each CIDR.
   * @throws {TypeError} naming the first invalid CIDR.
   */
  constructor(cidrs: Iterable<string>) {
    this.networks = [...cidrs].map((c) => Cidr.parse(c));
  }

  /** Whether any network contains `ip`. */
  allows(ip: IpBytes): boolean {
    return this.networks.some((network) => network.contains(ip));
  }
}
