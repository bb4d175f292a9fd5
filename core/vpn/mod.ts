/**
 * VPN mode's WireGuard engine: the WireGuard protocol (Noise_IKpsk2 handshake,
 * cookies, transport data, timers) with ONE remote peer, interoperable with
 * wireguard-go and the kernel's WireGuard.
 *
 * - {@link WireGuardPeer}: the protocol as a sans-IO state machine (messages
 *   and time in; messages and IP packets out).
 * - {@link WireGuardLink}: runs a peer over a {@link PacketPath}, with one timer.
 * - {@link UdpPacketPath}: a plain UDP socket to a fixed endpoint (to talk to
 *   standard WireGuard); {@link memoryPacketPathPair} and {@link MemoryTun} are
 *   in-memory fakes for tests.
 *
 * Handshake crypto comes from `@noble/curves`, `@noble/hashes` and
 * `@noble/ciphers`; per-packet ChaCha20-Poly1305 from `libsodium-wrappers`,
 * which this module waits for on import.
 *
 * ```ts
 * import { generatePrivateKey, memoryPacketPathPair, publicKeyOf, WireGuardLink, WireGuardPeer } from "./mod.ts";
 *
 * const aKey = generatePrivateKey();
 * const bKey = generatePrivateKey();
 * const [pathA, pathB] = memoryPacketPathPair();
 * const a = new WireGuardLink(
 *   new WireGuardPeer({ privateKey: aKey, peerPublicKey: publicKeyOf(bKey) }),
 *   pathA,
 *   { onPackets: () => {} },
 * );
 * const b = new WireGuardLink(
 *   new WireGuardPeer({ privateKey: bKey, peerPublicKey: publicKeyOf(aKey) }),
 *   pathB,
 *   { onPackets: (packets) => console.log(`${packets.length} IP packet(s) arrived`) },
 * );
 * // An IPv4 header of a 20-byte packet; it is queued until the handshake completes.
 * a.send([new Uint8Array([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2])]);
 * setTimeout(() => {
 *   a.close();
 *   b.close();
 * }, 100);
 * ```
 * @module
 */
export { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from "./replay_window.ts";
export type { PacketPath } from "./packet_path.ts";
export type { TunDevice } from "./tun_device.ts";
export {
  ipPacketLength,
  type ReceiveResult,
  WireGuardPeer,
  type WireGuardPeerOptions,
  type WireGuardPeerStats,
} from "./wireguard_peer.ts";
export { WireGuardLink, type WireGuardLinkOptions } from "./wireguard_link.ts";
export { UdpPacketPath, type UdpPacketPathOptions } from "./udp_packet_path.ts";
export {
  MemoryPacketPath,
  type MemoryPacketPathOptions,
  memoryPacketPathPair,
} from "./memory_packet_path.ts";
export { MemoryTun } from "./memory_tun.ts";
export { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
