/**
 * The WireGuard protocol with one remote peer, and what runs it over a path.
 * It knows nothing of tunnel sessions, devices or the host.
 *
 * - {@link WireGuardPeer}: the protocol (Noise_IKpsk2 handshake, cookies,
 *   keypairs and their replay window, transport data, timers) as a sans-IO
 *   state machine; interoperable with wireguard-go.
 * - {@link WireGuardLink}: runs a peer over a {@link PacketPath}, with one timer.
 * - Paths: {@link UdpPacketPath} (plain UDP, for standard WireGuard) and
 *   {@link memoryPacketPathPair} (fake); tunnel sessions bring their own.
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
export type { PacketPath } from "./packet_path.ts";
export { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from "./replay_window.ts";
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
export { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
