/**
 * From a relayed session to a direct one: hole punching coordinated inside the
 * session's authenticated connection ({@linkcode keepUpgrading} on the client,
 * {@linkcode answerUpgrades} on the server), and the offer and answer bodies
 * it exchanges (sans-IO).
 *
 * ```ts ignore
 * import { keepUpgrading } from "./mod.ts";
 * const upgrader = keepUpgrading(session.paths, serverId, {
 *   stunServers: ["relay.example:3478"],
 *   alpn: ALPN,
 *   log: { debug: console.debug, warn: console.warn },
 * });
 * ```
 * @module
 */
export {
  answerUpgrades,
  ICE_TIMEOUT_BEFORE_BIRTHDAY_MS,
  type JoinedPath,
  keepUpgrading,
  UPGRADE_ICE_TIMEOUT_MS,
  UPGRADE_RETRY_MS,
  type UpgradeLog,
  type UpgradeOptions,
  type Upgrader,
} from "./upgrade.ts";
export {
  decodePathAnswer,
  decodePathOffer,
  encodePathAnswer,
  encodePathOffer,
  JOIN_SECRET_LENGTH,
  MAX_SIGNAL_CANDIDATES,
  type PathAnswer,
  type PathOffer,
  PathSignalError,
} from "./path_signal.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
export type {
  AuthStatus,
  CloseInfo,
  DuplexStream,
  FramedStream,
  Message,
  MultipathConnection,
  PathInfo,
  PathKind,
  PathOptions,
  PathSignal,
  PeerConnection,
  SessionPaths,
  VpnConfig,
} from "../tunnel/mod.ts";
export type {
  CandidateType,
  IceCandidate,
  IceCredentials,
  NominatedPath,
  PathEnd,
  PathMethod,
  RemoteIceParameters,
} from "../nat/mod.ts";
export type { PortLease } from "../connect/mod.ts";
