/**
 * Transports: the {@linkcode PeerConnection} interface that session logic uses,
 * its QUIC implementation pinned to an EndpointId, and an in-memory pair for
 * tests ({@linkcode memoryConnectionPair}). The compliance suite that holds both
 * to the same contract is test-only and imported from `./compliance.ts`.
 *
 * ```ts
 * import { dialQuic, listenQuic } from "./mod.ts";
 * import { SecretKey } from "../identity/mod.ts";
 * const key = SecretKey.generate();
 * const listener = listenQuic({ hostname: "127.0.0.1", secretKey: key, alpn: "demo/1" });
 * const conn = await dialQuic({ addrs: [listener.addr], endpointId: key.endpointId, alpn: "demo/1" });
 * ```
 * @module
 */
export {
  CloseCode,
  type CloseInfo,
  type DuplexStream,
  type PeerConnection,
  type PeerListener,
} from "./connection.ts";
export { AdmissionLimit, type AdmissionLimits, type AdmissionRefusal } from "./admission.ts";
export { AsyncQueue } from "./async_queue.ts";
export { deadline, DeadlineError } from "./deadline.ts";
export { type MemoryConnectionOptions, memoryConnectionPair } from "./memory.ts";
export { MultipathConnection, type MultipathOptions, type PathOptions } from "./multipath.ts";
export { PATH_SILENCE_MS, type PathInfo, PathTable } from "./path_table.ts";
export {
  ANSWER_LIMIT_MS,
  LINK_OUTAGE_LIMIT_MS,
  Liveness,
  type LivenessLimits,
  PEER_SILENCE_MS,
} from "./liveness.ts";
export { type LinkedConnection, linkOf, LinkState, type PathLink, withLink } from "./path_link.ts";
export {
  DIRECT_PATH,
  isRelayedKind,
  type PathKind,
  pathKindByWireCode,
  type PathKindInfo,
  pathKindInfo,
  registerPathKind,
  RELAY_PATH,
} from "./path_kind.ts";
export {
  type AddressFailure,
  CONNECT_TIMEOUT_MS,
  ConnectError,
  type ConnectFailure,
  describeQuicError,
  dialQuic,
  type DialQuicOptions,
  HANDSHAKE_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  KEEP_ALIVE_MS,
  listenQuic,
  type ListenQuicOptions,
  MAX_PENDING_HANDSHAKES,
  MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  RELAYED_IDLE_TIMEOUT_MS,
} from "./quic.ts";
export {
  type CongestionControl,
  congestionControlToward,
  LOCAL_PATH_CONGESTION_CONTROL,
  NETWORK_PATH_CONGESTION_CONTROL,
} from "./congestion.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
