/**
 * VPN mode: a WireGuard engine between a TUN device and a packet path, and the
 * sessions that carry it. The engine is sans-IO; the device
 * ({@linkcode TunDevice}) and the path ({@linkcode PacketPath}) are the only
 * I/O, each with real implementations and in-memory fakes.
 *
 * ```ts
 * import { AddressPool } from "./mod.ts";
 * import { Cidr } from "../net/mod.ts";
 * const pool = new AddressPool(Cidr.parse("10.0.0.0/24"));
 * pool.lease("0123456789abcdef0123456789abcdef")?.text; // "10.0.0.2"
 * ```
 * @module
 */
export { type AddressLease, AddressPool, parseVpnAddress } from "./address_pool.ts";
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
