/**
 * VPN addresses: the server holds one address of the network, and each client
 * instance leases the next free one for as long as its session lasts. An
 * instance that reconnects gets its previous address back when nobody took it
 * in between, so its device and routes can stay as they are. Sans-IO.
 * @module
 */
import {
  type Cidr,
  formatIp,
  type IpBytes,
  ipv4FromNumber,
  ipv4ToNumber,
  parseIp,
} from "../net/mod.ts";

/** One client's address, as leased. */
export interface AddressLease {
  /** The client instance holding it (chosen by the client, see {@linkcode AddressPool.lease}). */
  readonly instance: string;
  /** The address, 4 bytes. */
  readonly address: IpBytes;
  /** The address as text. */
  readonly text: string;
}

/** The server's address given for a VPN network is not one of its host addresses. */
export class ServerAddressError extends TypeError {
  /** Always "ServerAddressError". */
  override name = "ServerAddressError";
  /** The address given. */
  readonly address: string;
  /** The network, CIDR text. */
  readonly network: string;

  /**
   * Builds the error.
   * @param address the address given
   * @param network the network, CIDR text
   */
  constructor(address: string, network: string) {
    super(`Invalid server address ${address}: not a host address of ${network}`);
    this.address = address;
    this.network = network;
  }
}

/** Instances remembered for an address hint; oldest forgotten first. */
const REMEMBERED_INSTANCES = 4_096;

/** Addresses of an IPv4 VPN network. */
export class AddressPool {
  /** The network. */
  readonly network: Cidr;
  /** The server's own address. */
  readonly serverAddress: IpBytes;
  readonly #first: number;
  readonly #last: number;
  readonly #server: number;
  /** Address (as a number) -> its lease. */
  readonly #leased = new Map<number, AddressLease>();
  /** Instance -> the address it last held, leased or not. */
  readonly #remembered = new Map<string, number>();
  #next: number;

  /**
   * A pool of `network`'s addresses.
   * @param network an IPv4 network with room for the server and one client (a /30 or larger)
   * @param serverAddress the server's address in it; default the first usable one
   * @throws {ServerAddressError} when `serverAddress` is not a host address of `network`
   * @throws {TypeError} naming the problem with `network`, for users
   */
  constructor(network: Cidr, serverAddress?: IpBytes) {
    const base = network.address;
    if (base.length !== 4) {
      throw new TypeError(`Invalid VPN network ${network.text}: only IPv4 networks are supported`);
    }
    if (network.prefix > 30) {
      throw new TypeError(
        `Invalid VPN network ${network.text}: too small for a server and a client (use a /30 or larger)`,
      );
    }
    this.network = network;
    const start = ipv4ToNumber(base);
    const size = 2 ** (32 - network.prefix);
    // The network and broadcast addresses are nobody's.
    this.#first = start + 1;
    this.#last = start + size - 2;
    const server = serverAddress ?? ipv4FromNumber(this.#first);
    const serverNumber = ipv4ToNumber(server);
    if (
      server.length !== 4 || !network.contains(server) || serverNumber < this.#first ||
      serverNumber > this.#last
    ) {
      throw new ServerAddressError(formatIp(server), network.text);
    }
    this.serverAddress = server;
    this.#server = serverNumber;
    this.#next = this.#first;
  }

  /** Client addresses the network has (all but the server's). */
  get capacity(): number {
    return this.#last - this.#first;
  }

  /** Leases held now. */
  get size(): number {
    return this.#leased.size;
  }

  /**
   * Leases an address to `instance`: the one it holds already (its earlier
   * session has not ended yet), else the one it held last if free, else the
   * next free one.
   * @returns the lease, or undefined when every address is taken
   */
  lease(instance: string): AddressLease | undefined {
    const previous = this.#remembered.get(instance);
    if (previous !== undefined) {
      const holder = this.#leased.get(previous);
      // Free, or held by its own earlier session that has not ended yet: the new
      // session takes it with a lease of its own, so the old one ending cannot free it.
      if (!holder || holder.instance === instance) return this.#take(previous, instance);
    }
    for (let tried = 0; tried <= this.#last - this.#first; tried++) {
      const candidate = this.#next;
      this.#next = candidate === this.#last ? this.#first : candidate + 1;
      if (candidate !== this.#server && !this.#leased.has(candidate)) {
        return this.#take(candidate, instance);
      }
    }
    return undefined;
  }

  /** Frees `lease`, unless a later session of the same instance holds it again. */
  release(lease: AddressLease): void {
    const number = ipv4ToNumber(lease.address);
    if (this.#leased.get(number) === lease) this.#leased.delete(number);
  }

  /** Whose address `address` is now, if anyone's. */
  holderOf(address: IpBytes): AddressLease | undefined {
    return address.length === 4 ? this.#leased.get(ipv4ToNumber(address)) : undefined;
  }

  #take(number: number, instance: string): AddressLease {
    const address = ipv4FromNumber(number);
    const lease = { instance, address, text: formatIp(address) };
    this.#leased.set(number, lease);
    this.#remembered.delete(instance);
    this.#remembered.set(instance, number);
    if (this.#remembered.size > REMEMBERED_INSTANCES) {
      this.#remembered.delete(this.#remembered.keys().next().value!);
    }
    return lease;
  }
}

/**
 * Parses an IPv4 address given by the user.
 * @param what how the message names the value, e.g. the setting it came from
 * @throws {TypeError} naming the problem
 */
export function parseVpnAddress(text: string, what: string): IpBytes {
  const ip = parseIp(text.trim());
  if (!ip || ip.length !== 4) throw new TypeError(`Invalid ${what} '${text}': not an IPv4 address`);
  return ip;
}
