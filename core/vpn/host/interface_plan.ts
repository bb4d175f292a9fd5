/**
 * Turns what a VPN interface should look like into the platform commands that
 * make it so, as plain data (sans-IO): tested without running them, executed
 * by {@link runCommands}.
 * @module
 */
import { Cidr, formatIp, type IpBytes, parseIp } from "../../net/mod.ts";

/** An address on the interface: the host's own address and its network's prefix length. */
export interface InterfaceAddress {
  /** The host's address, e.g. `10.0.0.2`. */
  ip: string;
  /** Prefix length of the VPN network, e.g. 24. */
  prefixLength: number;
}

/** What {@link planInterface} configures. */
export interface InterfacePlanOptions {
  /** Which platform's tools: `ip` (Linux) or `ifconfig` and `route` (macOS). */
  os: "linux" | "darwin";
  /** The interface's name (`tun0`, `utun7`). */
  name: string;
  /** The local address. */
  address: InterfaceAddress;
  /** macOS point-to-point destination (the server's VPN address). Default: the local address. */
  peer?: string;
  /** Interface MTU (576 to 65,535; 1,280 or more for IPv6). */
  mtu: number;
  /** Extra networks routed into the interface (`--route`), CIDR text. */
  routes?: readonly string[];
}

/** Commands to run, in order: `setup` now, `teardown` when the device closes. */
export interface InterfacePlan {
  /** Configures addresses, MTU, link state and routes. */
  setup: string[][];
  /** Undoes what the device's removal does not (macOS routes); empty on Linux. */
  teardown: string[][];
}

/**
 * The commands that configure the interface.
 *
 * @throws {TypeError} naming a bad address, prefix length, MTU or route.
 * @example
 * ```ts
 * planInterface({
 *   os: "linux", name: "tun0", address: { ip: "10.0.0.2", prefixLength: 24 }, mtu: 1420,
 *   routes: ["192.168.1.0/24"],
 * }).setup;
 * // [["ip","addr","add","10.0.0.2/24","dev","tun0"], ["ip","link","set","dev","tun0","mtu","1420","up"],
 * //  ["ip","route","add","192.168.1.0/24","dev","tun0"]]
 * ```
 */
export function planInterface(options: InterfacePlanOptions): InterfacePlan {
  const { name, mtu } = options;
  const ip = parseIp(options.address.ip);
  if (!ip) throw new TypeError(`Invalid VPN address '${options.address.ip}': not an IP address`);
  const bits = ip.length * 8;
  const prefix = options.address.prefixLength;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw new TypeError(
      `Invalid prefix length ${prefix} for ${options.address.ip}: must be 0 to ${bits}`,
    );
  }
  const minMtu = ip.length === 16 ? 1280 : 576;
  if (!Number.isInteger(mtu) || mtu < minMtu || mtu > 65_535) {
    throw new TypeError(`Invalid MTU ${mtu}: must be ${minMtu} to 65535`);
  }
  const routes = (options.routes ?? []).map((text) => Cidr.parse(text).text);
  const own = `${formatIp(networkOf(ip, prefix))}/${prefix}`;
  const local = formatIp(ip);
  if (options.os === "linux") {
    return {
      setup: [
        ["ip", "addr", "add", `${local}/${prefix}`, "dev", name],
        ["ip", "link", "set", "dev", name, "mtu", String(mtu), "up"],
        // The address already routes its own network.
        ...routes.filter((r) => r !== own).map((r) => ["ip", "route", "add", r, "dev", name]),
      ],
      teardown: [],
    };
  }
  const family = ip.length === 4 ? "-inet" : "-inet6";
  const peer = options.peer === undefined ? local : formatPeer(options.peer, ip.length);
  const addressArgs = ip.length === 4
    ? ["inet", local, peer, "netmask", formatIp(networkOf(new Uint8Array(4).fill(255), prefix))]
    : ["inet6", local, "prefixlen", String(prefix)];
  // utun is point-to-point: the address pair gives a host route only, so the VPN
  // network itself is routed like any other.
  const routed = [own, ...routes.filter((r) => r !== own)];
  return {
    setup: [
      ["ifconfig", name, ...addressArgs, "mtu", String(mtu), "up"],
      ...routed.map((r) => ["route", "-q", "-n", "add", family, r, "-interface", name]),
    ],
    teardown: routed.map((r) => ["route", "-q", "-n", "delete", family, r, "-interface", name]),
  };
}

function formatPeer(text: string, length: number): string {
  const peer = parseIp(text);
  if (!peer || peer.length !== length) {
    throw new TypeError(
      `Invalid peer address '${text}': not an address of the local address's family`,
    );
  }
  return formatIp(peer);
}

function networkOf(ip: IpBytes, prefix: number): IpBytes {
  return ip.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}
