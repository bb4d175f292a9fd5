/**
 * Finding the IPv4 default gateway, and this host's address on its network.
 *
 * Deno 2 lets a program read /proc/net/route (a link into /proc/self) only with
 * `--allow-all`, so the route table is asked of `ip -4 route show default` when
 * `--allow-run=ip` is granted (the VPN's permission set). Port forwarding runs
 * without it: then the gateway is taken to be the first host address of the
 * LAN the machine is on (`192.168.1.1` on `192.168.1.0/24`), where home routers
 * sit. A wrong guess costs nothing but the protocols' deadlines: answers are
 * taken only from the address asked. Permissions are queried, never prompted.
 * @module
 */
import { ipv4Scope } from "../net/mod.ts";
import { ipv4Bytes, ipv4Text, isIpv4, prefixLength, sameSubnet } from "./ipv4.ts";

/** The default route: gateway address and the interface it is reached through. */
export interface DefaultGateway {
  /** The gateway's IPv4 address. */
  address: string;
  /** The interface the default route leaves through. */
  interfaceName: string;
}

/** Largest `ip route` output read. */
export const ROUTE_TABLE_MAX = 64 * 1024;

/** The gateway, or one line saying why there is none. */
export type GatewayLookup =
  | { ok: true; gateway: DefaultGateway; guessed?: boolean }
  | { ok: false; reason: string };

/** Parses `ip -4 route show default`: "default via 10.0.1.1 dev eth0 ...". */
export function parseIpRouteDefault(text: string): DefaultGateway | undefined {
  for (const line of text.slice(0, ROUTE_TABLE_MAX).split("\n")) {
    const m = /^default via ([0-9.]+) dev (\S+)/.exec(line.trim());
    if (m && isIpv4(m[1])) return { address: m[1], interfaceName: m[2] };
  }
  return undefined;
}

const NO_GATEWAY = "no port mapping: no IPv4 default gateway";

/** Interface listing as `Deno.networkInterfaces()` gives it (a seam for tests). */
export type InterfaceList = () => readonly Pick<
  Deno.NetworkInterfaceInfo,
  "family" | "address" | "netmask"
>[];

/**
 * The default gateway: from `ip -4 route show default` when `--allow-run=ip` is
 * granted, otherwise the first host address of the first private IPv4 network
 * this machine has an address on (`guessed: true`). A missing permission or tool
 * is a one-line reason, never a throw or a prompt.
 */
export async function readDefaultGateway(
  interfaces: InterfaceList = () => Deno.networkInterfaces(),
): Promise<GatewayLookup> {
  if (Deno.permissions.querySync({ name: "run", command: "ip" }).state === "granted") {
    try {
      const out = await new Deno.Command("ip", {
        args: ["-4", "route", "show", "default"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        signal: AbortSignal.timeout(2_000),
      }).output();
      const gateway = parseIpRouteDefault(new TextDecoder().decode(out.stdout));
      return gateway ? { ok: true, gateway } : { ok: false, reason: NO_GATEWAY };
    } catch { /* no ip(8) here: guess as without the permission */ }
  }
  if (Deno.permissions.querySync({ name: "sys", kind: "networkInterfaces" }).state !== "granted") {
    return {
      ok: false,
      reason: "no port mapping: finding the gateway needs --allow-sys=networkInterfaces",
    };
  }
  const gateway = guessGateway(interfaces());
  return gateway
    ? { ok: true, gateway, guessed: true }
    : { ok: false, reason: "no port mapping: this machine has no private IPv4 network" };
}

/**
 * The usual router address of the first private IPv4 network (10/8, 172.16/12,
 * 192.168/16, 100.64/10) an interface is on: its first host address, unless that
 * is the interface's own address (then this machine is the router).
 */
export function guessGateway(
  interfaces: readonly Pick<Deno.NetworkInterfaceInfo, "family" | "address" | "netmask">[],
): DefaultGateway | undefined {
  for (const i of interfaces) {
    if (i.family !== "IPv4" || !isPrivateIpv4(i.address)) continue;
    const bits = prefixLength(i.netmask);
    if (bits < 8 || bits > 30) continue;
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    const first = ((ipv4Number(i.address) & mask) >>> 0) + 1;
    const address = ipv4Text(
      new Uint8Array([first >>> 24, (first >>> 16) & 0xff, (first >>> 8) & 0xff, first & 0xff]),
    );
    if (address !== i.address) return { address, interfaceName: "" };
  }
  return undefined;
}

function isPrivateIpv4(text: string): boolean {
  if (!isIpv4(text)) return false;
  const scope = ipv4Scope(ipv4Bytes(text));
  return scope === "private" || scope === "shared";
}

function ipv4Number(text: string): number {
  return text.split(".").reduce((n, part) => (n * 256 + Number(part)) >>> 0, 0);
}

/** This host's IPv4 address and prefix on the gateway's subnet. */
export interface LocalAddress {
  address: string;
  prefixLength: number;
}

/** Picks the interface address whose subnet holds `gateway` (needs --allow-sys=networkInterfaces). */
export function localAddressFor(
  gateway: string,
  interfaces: readonly Pick<Deno.NetworkInterfaceInfo, "family" | "address" | "netmask">[],
): LocalAddress | undefined {
  for (const i of interfaces) {
    if (i.family !== "IPv4") continue;
    const bits = prefixLength(i.netmask);
    if (bits > 0 && sameSubnet(i.address, gateway, bits) && i.address !== gateway) {
      return { address: i.address, prefixLength: bits };
    }
  }
  return undefined;
}
