/**
 * The tunnel protocol: messages and their framing, the allowlist, and the client
 * and server session logic that runs over any {@linkcode PeerConnection}.
 *
 * ```ts
 * import { AllowList, parseSource } from "./mod.ts";
 * const allowed = new AllowList(["127.0.0.0/8"]);
 * const source = parseSource("tcp://127.0.0.1:22");
 * ```
 * @module
 */
export type {
  AdmissionLimit,
  AdmissionLimits,
  AdmissionRefusal,
  CloseInfo,
  DuplexStream,
  MultipathConnection,
  MultipathOptions,
  PathInfo,
  PathKind,
  PathOptions,
  PeerConnection,
} from "../transport/mod.ts";
export { AllowList } from "./allow_list.ts";
// AllowList's public types; parse and format IPs with core/net itself.
export type { Cidr, IpBytes } from "../net/mod.ts";
export {
  ALPN,
  AuthStatus,
  decodeDatagram,
  encodeDatagram,
  encodeMessage,
  encodeWireGuardFrames,
  FrameDecoder,
  MAX_PATH_SIGNAL,
  MAX_UDP_PAYLOAD,
  MAX_WIREGUARD_MESSAGE,
  type Message,
  ProtocolError,
  type VpnConfig,
} from "./messages.ts";
export { formatBytes, silentLog, type TunnelLog } from "./log.ts";
export { FramedStream } from "./framed_stream.ts";
export {
  PathChannel,
  type PathChannelEvents,
  type PathSignal,
  PROBE_INTERVAL_MS,
} from "./path_channel.ts";
export { describePath, SessionPaths, type SessionPathsOptions } from "./session_paths.ts";
export { SessionStats } from "./session_stats.ts";
export {
  type PathStatus,
  type SessionEntry,
  SessionRegistry,
  type SessionStatus,
} from "./session_registry.ts";
export { deadline, DeadlineError } from "../transport/mod.ts";
export { type AddressCheck, resolveAllowed, type Resolver, systemResolver } from "./resolver.ts";
export {
  fairShare,
  type PoolSlots,
  SessionLimiter,
  type SessionLimiterOptions,
} from "./session_limiter.ts";
export {
  formatHostPort,
  formatSource,
  parseHostPort,
  parseSource,
  type Source,
  type SourceProtocol,
} from "./source.ts";
export {
  type ClientSession,
  type ClientSessionOptions,
  ConnectionRefusedByServerError,
  forwardTcp,
  forwardUdp,
  openClientSession,
  type RefusalKind,
  SessionRefusedError,
} from "./client_session.ts";
export { type ClientCredential, type ClientKeyCredential } from "./client_auth.ts";
export type { AuthorizedKey, AuthorizedKeys, ClientKey, ClientPublicKey } from "../auth/mod.ts";
export { SESSION_WAIT_MS, type SessionSupplier, singleSession } from "./session_supplier.ts";
export { SessionHost, type SessionHostOptions } from "./session_host.ts";
export {
  AUTH_TIMEOUT_MS,
  checkRequest,
  CLIENT_KEY_REFUSED,
  CLIENT_KEYS_NOT_ACCEPTED,
  type ClientKeyAuth,
  describeClientKey,
  type ForwardingOptions,
  forwardingServices,
  MAX_UNAUTHENTICATED,
  MAX_UNAUTHENTICATED_PER_ADDRESS,
  MIN_CLIENT_SHARE,
  REQUEST_TIMEOUT_MS,
  serveConnection,
  type ServerLimits,
  serverLimits,
  type ServerSessionOptions,
  sharedPool,
} from "./server_session.ts";
export {
  type ServerService,
  type ServerServices,
  type ServiceDecision,
  serviceKindOf,
  type ServiceSession,
  type ServiceTotals,
} from "./service.ts";
export { checkSource, type SourceGrant } from "./source_check.ts";
export {
  MAX_PROCESS_TCP_STREAMS,
  MAX_TCP_STREAMS_PER_SESSION,
  tcpService,
  type TcpServiceOptions,
} from "./tcp_service.ts";
export { MAX_PROCESS_UDP_FLOWS, udpService, type UdpServiceOptions } from "./udp_service.ts";
export {
  type ByteConn,
  type DatagramAddr,
  type DatagramSocket,
  type Dialer,
  systemDialer,
} from "./dialer.ts";
export { RepeatedLines, SUMMARY_INTERVAL_MS } from "../log/mod.ts";
export {
  LocalPeerFlows,
  MAX_UDP_FLOWS,
  UDP_FLOW_IDLE_MS,
  type UdpFlow,
  UdpFlowTable,
  type UdpFlowTableOptions,
} from "./udp_flows.ts";
