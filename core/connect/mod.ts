/**
 * Connection establishment: how two peers that cannot reach each other
 * directly end up with a key-pinned {@linkcode PeerConnection}. Today: ICE
 * with parameters exchanged through a {@linkcode SignalingChannel} (manual
 * mode's copy-paste; later Nostr and the relay path), racing every path at
 * once ({@linkcode firstToConnect}), connecting again with backoff once a
 * connection is lost ({@linkcode Reconnector}), and a first connect with the
 * same patience ({@linkcode connectWithRetries}).
 *
 * ```ts
 * import { dialOverIce, type IceAnswer, type IceOffer, type SignalingChannel } from "./mod.ts";
 *
 * declare const channel: SignalingChannel<IceOffer, IceAnswer>; // e.g. copy-paste
 * const conn = await dialOverIce({ channel, stunServers: [], alpn: "tunnel/2" });
 * ```
 * @module
 */
export type { CloseInfo, DuplexStream, PeerConnection } from "../transport/mod.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
export { IceFailedError } from "../nat/mod.ts";
export type {
  CandidateType,
  IceCandidate,
  IceCredentials,
  NominatedPath,
  PathEnd,
  RemoteIceParameters,
} from "../nat/mod.ts";
export {
  acceptOverIce,
  type AcceptOverIceOptions,
  dialOverIce,
  type DialOverIceOptions,
  ICE_TIMEOUT_MS,
  type IceConnectCommonOptions,
  type IceFallback,
  type PortLease,
} from "./ice_connect.ts";
export type { IceAnswer, IceOffer, SignalingChannel } from "./signaling_channel.ts";
export { memoryChannelPair } from "./memory_channel.ts";
export {
  AllAttemptsFailedError,
  type ConnectAttempt,
  firstToConnect,
  type LabeledConnection,
} from "./first_to_connect.ts";
export { Backoff, type BackoffOptions, MAX_BACKOFF_MS, MIN_BACKOFF_MS } from "./backoff.ts";
export { connectWithRetries, type RetryConnectOptions } from "./retry_connect.ts";
export {
  Reconnector,
  type ReconnectorOptions,
  type ReconnectorState,
  STABLE_CONNECTION_MS,
} from "./reconnect.ts";
