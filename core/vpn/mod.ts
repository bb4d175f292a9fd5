/**
 * VPN mode: VPN sessions and their routing, over three folders of their own.
 *
 * - `wireguard/`: the WireGuard protocol (sans-IO) and the link that runs it
 *   over a packet path; it knows nothing of the rest.
 * - `device/`: TUN devices per platform (FFI) and the in-memory fake.
 * - `host/`: host setup: interface commands, forwarding and masquerading, the
 *   single-instance lock.
 *
 * This folder joins them, and every packet between a device and a peer stays
 * in it: {@link VpnClient} (a client's device and routing across its
 * sessions), {@link openVpnServer} (a server's device, forwarding and `ip`
 * service), {@link ipService} (the server's side of a session),
 * {@link startVpnClientLink} (the client's), {@link SessionPacketPath}
 * (WireGuard messages over a tunnel session), {@link AddressPool} and
 * {@link IpRouter} (which packet goes to which peer).
 *
 * ```ts
 * import { AddressPool, IpRouter } from "./mod.ts";
 * import { MemoryTun } from "./device/mod.ts";
 * import { Cidr } from "../net/mod.ts";
 *
 * const pool = new AddressPool(Cidr.parse("10.0.0.0/24"));
 * const lease = pool.lease("instance-1");
 * const router = new IpRouter(new MemoryTun());
 * // Packets the device gives for the client's address go to its WireGuard.
 * const removeRoute = router.addHost(lease!.address, { send: (packets) => console.log(packets) });
 * removeRoute();
 * ```
 * @module
 */
// Types of other areas that this surface names.
export type { Cidr, IpBytes } from "../net/mod.ts";
export type { CloseInfo, DuplexStream, PathKind, PeerConnection } from "../transport/mod.ts";
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
export type { PacketPath } from "./wireguard/mod.ts";
export type { OpenTunOptions, TunDevice } from "./device/mod.ts";
export type {
  CommandOutcome,
  CommandRunner,
  ForwardingOptions,
  HostForwarding,
  HostForwardingOptions,
  InterfaceAddress,
  SysctlFile,
} from "./host/mod.ts";
export {
  VpnClient,
  type VpnClientEvent,
  type VpnClientOptions,
  type VpnClientStatus,
} from "./vpn_client.ts";
export {
  ForwardingSetupError,
  openVpnServer,
  type VpnServer,
  type VpnServerEvent,
  type VpnServerOptions,
  type VpnServerStatus,
} from "./vpn_server.ts";
export {
  type AddressLease,
  AddressPool,
  parseVpnAddress,
  ServerAddressError,
} from "./address_pool.ts";
export { IpRouter, type PacketSink, type RouterDrops } from "./ip_router.ts";
export { ipService, type IpServiceOptions, vpnRequest } from "./ip_service.ts";
export { MAX_WAITING_PACKETS, PacketBatches } from "./packet_batches.ts";
export { type SessionPacketCounts, SessionPacketPath } from "./session_packet_path.ts";
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
