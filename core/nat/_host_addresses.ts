/**
 * Which interface addresses become host candidates.
 *
 * We enumerate interfaces ourselves instead of letting werift call
 * `os.networkInterfaces()`: werift drops every interface whose name starts
 * with `veth` or `vmnet` (a Chrome heuristic for VM networks) and always drops
 * loopback, but network-namespace test beds and containers put their only
 * routable address on a veth, and same-host tests need loopback.
 *
 * @module
 */

import { isIP } from "node:net";

/** The fields of `Deno.NetworkInterfaceInfo` the selection reads. */
export type _InterfaceAddress = Pick<Deno.NetworkInterfaceInfo, "family" | "address">;

/**
 * Picks host candidate addresses: every IPv4 then IPv6 interface address,
 * without link-local ones (werift cannot carry a scope id) and, unless asked,
 * without loopback (unreachable from any other machine).
 */
export function _selectHostAddresses(
  interfaces: readonly _InterfaceAddress[],
  options: { includeLoopback: boolean },
): string[] {
  const picked = interfaces
    .filter(({ address }) => isIP(address) !== 0 && !_isLinkLocal(address))
    .filter(({ address }) => options.includeLoopback || !_isLoopback(address))
    .sort((a, b) => (a.family === b.family ? 0 : a.family === "IPv4" ? -1 : 1))
    .map(({ address }) => address);
  return [...new Set(picked)];
}

/**
 * Reads the interface list (needs `--allow-sys=networkInterfaces`) and selects from it.
 *
 * @throws {Deno.errors.NotCapable} with a message naming the missing permission.
 */
export function _hostAddresses(options: { includeLoopback: boolean }): string[] {
  let interfaces: Deno.NetworkInterfaceInfo[];
  try {
    interfaces = Deno.networkInterfaces();
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(
        "Cannot list host ICE candidates: run with --allow-sys=networkInterfaces",
        { cause: error },
      );
    }
    throw error;
  }
  return _selectHostAddresses(interfaces, options);
}

/** True for 127.0.0.0/8 and ::1. */
export function _isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

function _isLinkLocal(address: string): boolean {
  return address.startsWith("169.254.") || /^fe[89ab]/i.test(address);
}
