import {
  startWireGuardGo,
  startWireGuardTunPeer,
  type WireGuardGo,
  wireGuardKeyPair,
} from "../tests/netns/mod.ts";
import type { VpnUnderTest } from "./vpn_suite.ts";

/**
 * Our WireGuard engine (core/vpn) with a real TUN device in the left namespace, over a
 * plain UDP socket to wireguard-go in the right one (MTU 1420 both). Beside the
 * wireguard-go row it shows what the engine and device cost without QUIC in the way;
 * `tunnel vpn` adds the peer connection on top of this.
 */
export const wireGuardEngineVpn: VpnUnderTest = {
  path: "core/vpn engine + TUN <-> wireguard-go (UDP)",
  async start({ pair, network }) {
    const base = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(network)?.[1];
    if (!base) {
      throw new RangeError(`Cannot start our WireGuard peer: ${network} is not an x.y.z.0/24`);
    }
    const ours = wireGuardKeyPair();
    const theirs = wireGuardKeyPair();
    const ourPort = await pair.freeUdpPort(pair.left);
    const wg: WireGuardGo = await startWireGuardGo(pair.right.ns, {
      privateKey: theirs.privateKey,
      listenPort: await pair.freeUdpPort(pair.right),
      address: `${base}.1/24`,
      peer: {
        publicKey: ours.publicKey,
        endpoint: `${pair.left.ip}:${ourPort}`,
        allowedIps: [`${base}.2/32`],
      },
    });
    try {
      const peer = await startWireGuardTunPeer(pair.left.ns, {
        privateKey: ours.privateKey,
        listenPort: ourPort,
        address: `${base}.2/24`,
        peer: { publicKey: wg.publicKey, endpoint: `${pair.right.ip}:${wg.listenPort}` },
      });
      return {
        leftIp: peer.ip,
        rightIp: wg.ip,
        stop: async () => {
          await peer.stop();
          await wg.stop();
        },
      };
    } catch (error) {
      await wg.stop();
      throw error;
    }
  },
};
