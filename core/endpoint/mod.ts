/**
 * The iroh-mode endpoint: how a peer known by its key is reached and served,
 * over every kind of path at once.
 *
 * - A **path seam** (`PathDialer`): each kind of path is one file with a dialer
 *   registered for its kind (`direct_path.ts`, `relay_path.ts`); importing
 *   this module registers the built-in ones. A new kind is its own file plus
 *   one export line below.
 * - **Connecting** (`connectToServer`): every address at once, and the server's
 *   record looked up alongside; one abort signal reaches every attempt once
 *   one has won.
 *
 * ```ts
 * import { connectToServer } from "./mod.ts";
 * const { session, where } = await connectToServer({
 *   serverId,
 *   addresses: () => Promise.resolve([{ kind: "relay", url: "https://relay.example/" }]),
 *   token,
 *   source: parseSource("tcp://127.0.0.1:22"),
 * }, { log });
 * ```
 * @module
 */
export {
  type DialedPath,
  dialerFor,
  dialPath,
  type DialTarget,
  type PathAddress,
  type PathDialer,
  registerPathDialer,
} from "./path_dialer.ts";
export { type DirectAddress, directPathDialer } from "./direct_path.ts";
export { type RelayAddress, relayPathDialer } from "./relay_path.ts";
export {
  type ConnectEvents,
  connectToServer,
  type FoundRecord,
  type RecordLookup,
  RecordLookupError,
  type ServerConnectTarget,
  type ServerSession,
} from "./connect_server.ts";
export {
  type EndpointServer,
  type EndpointServerEvents,
  type EndpointServerSettings,
  GOODBYE_LINGER_MS,
  type RecordPublication,
  RELAY_READY_WAIT_MS,
  SHUTDOWN_CLOSE,
  startEndpointServer,
} from "./serve_endpoint.ts";
export {
  type EndpointIce,
  RELAY_STUN_PORT,
  relayStunServers,
  startClientUpgrades,
  stunServersOf,
  upgradeAnswerer,
} from "./upgrades.ts";
export { dialableAddresses } from "./dialable_addresses.ts";

export { type FollowedServer, type FollowerStatus, SessionFollower } from "./session_follower.ts";
export { PATH_ANNOUNCE_WAIT_MS, PathAnnouncer } from "./path_announcer.ts";
export { ReconnectLines } from "./reconnect_lines.ts";
export {
  describeMapping,
  type ListenerMapping,
  type ListenerMappingOptions,
  mapListenerPort,
  REMAP_AFTER_LOSS_MS,
} from "./listener_mapping.ts";
export {
  LEASE_WAIT_MS,
  type LeaseMapper,
  PortLeases,
  type PortLeasesOptions,
  RETRY_SILENT_ROUTER_MS,
} from "./port_leases.ts";
export { describeConnectFailure, failedPaths, finalConnectFailure } from "./connect_failure.ts";
export { type FollowedReconnectOptions, followReconnects } from "./followed_reconnects.ts";

// Types the surface above names, from the areas that define them.
export type { Reconnector, ReconnectorState } from "../connect/mod.ts";
export type { AddressFailure } from "../transport/mod.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
export type { AuthorizedKey, AuthorizedKeys, ClientKey, ClientPublicKey } from "../auth/mod.ts";
export type { RelayClientLog, RelayRefusedError, WebSocketDial } from "../relay/mod.ts";
export type {
  AdmissionLimit,
  AdmissionLimits,
  AdmissionRefusal,
  CloseInfo,
  DuplexStream,
  MultipathConnection,
  PathInfo,
  PathKind,
  PathKindInfo,
  PathOptions,
  PeerConnection,
} from "../transport/mod.ts";
export type {
  AuthStatus,
  ClientSession,
  FramedStream,
  Message,
  PathSignal,
  PathStatus,
  PoolSlots,
  RepeatedLines,
  ServerLimits,
  ServerService,
  ServerServices,
  ServiceDecision,
  ServiceSession,
  ServiceTotals,
  SessionEntry,
  SessionLimiter,
  SessionPaths,
  SessionRegistry,
  SessionStats,
  SessionStatus,
  Source,
  SourceProtocol,
  TunnelLog,
  VpnConfig,
} from "../tunnel/mod.ts";
export type { Upgrader } from "../upgrade/mod.ts";
export type { MappingProtocol, PortMapEvent, PortMapper, PortMapping } from "../portmap/mod.ts";
export type { PortLease } from "../connect/mod.ts";
export type { PkarrRecord, RecordDht, RecordItem, SocketAddress } from "../discovery/mod.ts";
