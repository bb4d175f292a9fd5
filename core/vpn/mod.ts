/**
 * VPN mode: WireGuard between a TUN device and a packet path, and the tunnel
 * sessions that carry it.
 *
 * - {@link WireGuardPeer}: the WireGuard protocol (Noise_IKpsk2 handshake,
 *   cookies, transport data, timers) with one remote peer, as a sans-IO state
 *   machine; interoperable with wireguard-go.
 * - {@link WireGuardLink}: runs a peer over a {@link PacketPath}, with one timer.
 * - Paths: {@link SessionPacketPath} (a tunnel session), {@link UdpPacketPath}
 *   (plain UDP, for standard WireGuard), {@link memoryPacketPathPair} (fake).
 * - Devices: {@link openTunDevice} (Linux, macOS), {@link MemoryTun} (fake).
 * - Sessions: {@link ipService} (server), {@link startVpnClientLink} (client),
 *   {@link AddressPool}, {@link IpRouter}.
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
// Types of other areas that this surface names.
export type { Cidr, IpBytes } from "../net/mod.ts";
export type { CloseInfo, DuplexStream, PeerConnection } from "../transport/mod.ts";
export type {
  AuthStatus,
  FramedStream,
  Message,
  RepeatedLines,
  ServerService,
  ServiceDecision,
  ServiceSession,
  ServiceTotals,
  SessionStats,
  TunnelLog,
  VpnConfig,
} from "../tunnel/mod.ts";
export { type AddressLease, AddressPool, parseVpnAddress } from "./address_pool.ts";
export { deviceForwarding, parseNetconfForwarding } from "./device_forwarding.ts";
export { type InstanceLock, LockHeldError, takeInstanceLock } from "./instance_lock.ts";
export { IpRouter, type PacketSink, type RouterDrops } from "./ip_router.ts";
export { ipService, type IpServiceOptions, vpnRequest } from "./ip_service.ts";
export { MAX_WAITING_PACKETS, PacketBatches } from "./packet_batches.ts";
export type { PacketPath } from "./packet_path.ts";
export { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from "./replay_window.ts";
export { type SessionPacketCounts, SessionPacketPath } from "./session_packet_path.ts";
export type { TunDevice } from "./tun_device.ts";
export {
  startVpnClientLink,
  type VpnClientLink,
  type VpnClientLinkOptions,
} from "./vpn_client_session.ts";
export { startWireGuard } from "./start_wireguard.ts";
export type {
  StartWireGuard,
  WireGuardTunnel,
  WireGuardTunnelOptions,
} from "./wireguard_tunnel.ts";
export { openTunDevice, type OpenTunOptions } from "./open_tun_device.ts";
export { type LinuxTunOptions, openLinuxTun } from "./tun_linux.ts";
export { type DarwinTunOptions, openDarwinTun } from "./tun_darwin.ts";
export { TUN_PERMISSION_MESSAGE } from "./tun_open_error.ts";
export {
  type InterfaceAddress,
  type InterfacePlan,
  type InterfacePlanOptions,
  planInterface,
} from "./interface_plan.ts";
export {
  type CommandOutcome,
  type CommandRunner,
  runCommand,
  runCommands,
  systemRunner,
} from "./command_runner.ts";
export {
  FORWARDING_TAG,
  type ForwardingFacts,
  type ForwardingOptions,
  type ForwardingPlan,
  planForwarding,
  planForwardingRestore,
  type TaggedRule,
  taggedRules,
} from "./forwarding_plan.ts";
export {
  enableHostForwarding,
  type HostForwarding,
  type HostForwardingOptions,
  type SysctlFile,
} from "./host_forwarding.ts";
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
