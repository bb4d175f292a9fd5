/**
 * Nostr for nostr mode's signaling: static keys (nsec/npub, NIP-19), key
 * files, and the signaling events (kind 24242, NIP-44 encrypted to the peer,
 * strictly checked on the way in, replays refused), all sans-IO.
 *
 * ```ts
 * import { NostrSecretKey, newSessionId, openSignal, sealSignal } from "./mod.ts";
 * const server = NostrSecretKey.generate();
 * const client = NostrSecretKey.generate();
 * const event = sealSignal(client, server.publicKey, {
 *   type: "request",
 *   session: newSessionId(),
 *   source: "tcp://127.0.0.1:22",
 * });
 * const message = openSignal(server, client.publicKey, event); // the request
 * ```
 * @module
 */
export { NostrKeyError, NostrPublicKey, NostrSecretKey } from "./keys.ts";
export {
  MAX_NSEC_FILE_BYTES,
  NostrKeyFileError,
  readNostrKeyFile,
  writeNostrKeyFile,
} from "./key_file.ts";
export {
  ANSWER_TIMEOUT_MS,
  type EventBus,
  NoOfferError,
  OFFER_TIMEOUT_MS,
  SignalingHub,
  type SignalingHubOptions,
} from "./signaling_hub.ts";
export {
  REPUBLISH_FIRST_MS,
  REPUBLISH_MAX_COPIES,
  REPUBLISH_MAX_GAP_MS,
  republishDelayMs,
} from "./republish_schedule.ts";
export {
  EOSE_TIMEOUT_MS,
  MAX_REQ_ATTEMPTS,
  type MissedEoseAction,
  RATE_LIMIT_FIRST_PAUSE_MS,
  RATE_LIMIT_MAX_PAUSE_MS,
  type RefusalKind,
  refusalKind,
  RelayHealth,
} from "./relay_health.ts";
export {
  MAX_RELAY_MESSAGE,
  type NostrFilter,
  NostrRelaySet,
  type RelaySetLog,
  type RelaySetOptions,
} from "./relay_set.ts";
export {
  type IgnoredReason,
  MAX_CONTENT_LENGTH,
  MAX_EVENT_AGE_S,
  newSessionId,
  type NostrEvent,
  openSignal,
  ReplayGuard,
  sealSignal,
  SIGNAL_KIND,
  type SignalMessage,
  transferId,
} from "./signal_event.ts";
export type {
  CandidateType,
  EndpointId,
  IceAnswer,
  IceCandidate,
  IceCredentials,
  IceOffer,
  RemoteIceParameters,
  SignalingChannel,
} from "../connect/mod.ts";
