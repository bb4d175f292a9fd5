/**
 * Finding the IPv4 default gateway on Linux, and this host's address on its network.
 * Deno 2 lets a program read /proc/net/route (a link into /proc/self) only with
 * `--allow-all`, so the table is read from there when allowed and otherwise asked of
 * `ip -4 route show default` (`--allow-run=ip`, which the tunnel CLI already has for VPN).
 * @module
 */
import { ipv4Text, isIpv4, prefixLength, sameSubnet } from "./ipv4.ts";

/** The default route: gateway address and the interface it is reached through. */
export interface DefaultGateway {
  /** The gateway's IPv4 address. */
  address: string;
  /** The interface the default route leaves through. */
  interfaceName: string;
}

/** Largest /proc/net/route read (a line is ~128 bytes; 512 routes). */
export const ROUTE_TABLE_MAX = 64 * 1024;

/**
 * Parses /proc/net/route: the first up (RTF_UP) gateway (RTF_GATEWAY) route with
 * destination and mask 0. Addresses there are hex in host (little-endian) byte order.
 */
export function parseRouteTable(text: string): DefaultGateway | undefined {
  for (const line of text.slice(0, ROUTE_TABLE_MAX).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [name, destination, gateway, flags, , , , mask] = f;
    if (destination !== "00000000" || mask !== "00000000") continue;
    const bits = parseInt(flags, 16);
    if (!(bits & 0x1) || !(bits & 0x2) || !/^[0-9A-Fa-f]{8}$/.test(gateway)) continue;
    const value = parseInt(gateway, 16);
    const bytes = new Uint8Array([
      value & 0xff,
      (value >>> 8) & 0xff,
      (value >>> 16) & 0xff,
      value >>> 24,
    ]);
    if (value === 0) continue;
    return { address: ipv4Text(bytes), interfaceName: name };
  }
  return undefined;
}

/** The gateway, or one line saying why there is none. */
export type GatewayLookup = { ok: true; gateway: DefaultGateway } | { ok: false; reason: string };

/** Parses `ip -4 route show default`: "default via 10.0.1.1 dev eth0 ...". */
export function parseIpRouteDefault(text: string): DefaultGateway | undefined {
  for (const line of text.slice(0, ROUTE_TABLE_MAX).split("\n")) {
    const m = /^default via ([0-9.]+) dev (\S+)/.exec(line.trim());
    if (m && isIpv4(m[1])) return { address: m[1], interfaceName: m[2] };
  }
  return undefined;
}

const NO_GATEWAY = "no port mapping: no IPv4 default gateway";

/**
 * The default gateway from /proc/net/route, else from `ip -4 route show default`; a
 * missing permission, file or tool is a one-line reason, never a throw.
 */
export async function readDefaultGateway(path = "/proc/net/route"): Promise<GatewayLookup> {
  try {
    const gateway = parseRouteTable(await Deno.readTextFile(path));
    return gateway ? { ok: true, gateway } : { ok: false, reason: NO_GATEWAY };
  } catch { /* not allowed (Deno wants --allow-all for /proc/self) or not Linux: ask ip(8) */ }
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
  } catch (error) {
    const denied = error instanceof Deno.errors.NotCapable ||
      error instanceof Deno.errors.PermissionDenied;
    return {
      ok: false,
      reason: denied
        ? `no port mapping: finding the gateway needs --allow-run=ip (or --allow-all for ${path})`
        : `no port mapping: no ${path} and no ip(8) to find the gateway (pass it)`,
    };
  }
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
