import { startWireGuardGoPair } from "../tests/netns/mod.ts";
import type { VpnUnderTest } from "./vpn_suite.ts";

/**
 * The reference row of the VPN suite: wireguard-go (Debian's `wireguard-go`, configured
 * with `wg` from `wireguard-tools`) in both namespaces, MTU 1420, peered over the veth.
 * The right end takes `.1` of the suite's network, as a VPN server would.
 */
export const wireGuardGoVpn: VpnUnderTest = {
  path: "wireguard-go",
  async start({ pair, network }) {
    const base = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(network)?.[1];
    if (!base) throw new RangeError(`Cannot start wireguard-go: ${network} is not an x.y.z.0/24`);
    const wg = await startWireGuardGoPair(pair, {
      rightAddress: `${base}.1/24`,
      leftAddress: `${base}.2/24`,
    });
    return { leftIp: wg.left.ip, rightIp: wg.right.ip, stop: () => wg.stop() };
  },
};
