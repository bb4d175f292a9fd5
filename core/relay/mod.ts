/**
 * iroh's relay protocol: the frames carried one per binary WebSocket message on
 * `GET /relay` (subprotocol `iroh-relay-v1` or `iroh-relay-v2`) and the crypto of
 * the challenge handshake (both sans-IO); the relay server and client; and QUIC
 * over a relay through a loopback shim (`dialViaRelay`, `serveViaRelay`), which
 * passes the transport compliance suite. Byte-compatible with iroh, so iroh's
 * relays can carry our packets and our relay can serve iroh endpoints.
 *
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * import {
 *   decodeRelayFrame,
 *   encodeRelayFrame,
 *   newChallenge,
 *   signChallenge,
 *   verifyClientAuth,
 * } from "./mod.ts";
 *
 * // Relay: send a challenge. Client: answer it. Relay: check the answer.
 * const challenge = newChallenge();
 * const sent = encodeRelayFrame({ type: "server-challenge", challenge }, 2);
 * const received = decodeRelayFrame(sent, 2);
 * if (received.type !== "server-challenge") throw new Error("unexpected frame");
 * const auth = encodeRelayFrame(signChallenge(SecretKey.generate(), received.challenge), 2);
 * const answer = decodeRelayFrame(auth, 2);
 * if (answer.type === "client-auth" && verifyClientAuth(answer, challenge)) {
 *   encodeRelayFrame({ type: "server-confirms-auth" }, 2);
 * }
 * ```
 * @module
 */
export {
  decodeRelayFrame,
  encodeRelayFrame,
  MAX_BATCH_PAYLOAD,
  MAX_DATAGRAM_PAYLOAD,
  MAX_FRAME_SIZE,
  MAX_PACKET_SIZE,
  RELAY_FRAME_SENDER,
  RELAY_SUBPROTOCOLS,
  type RelayFrame,
  RelayFrameError,
  type RelayProtocolVersion,
  relayProtocolVersion,
  type RelayStatus,
  statusFrameFor,
} from "./frames.ts";
export {
  CHALLENGE_LENGTH,
  challengeMessage,
  type ClientAuthFrame,
  newChallenge,
  signChallenge,
  verifyClientAuth,
} from "./handshake.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
export {
  RelayClient,
  type RelayClientLog,
  type RelayClientOptions,
  RelayRefusedError,
  relayWebSocketUrl,
} from "./client.ts";
export {
  createRelayServer,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_UNAUTHENTICATED,
  DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS,
  type RelayLog,
  type RelayRequestInfo,
  type RelayServer,
  type RelayServerOptions,
} from "./server.ts";
export {
  HOME_RELAY_PROBE_MS,
  pickHomeRelay,
  type PickHomeRelayOptions,
  relayPingUrl,
} from "./home_relay.ts";
export {
  type RelayListener,
  servePlainHttp,
  type ServePlainHttpOptions,
  serveRelay,
  type ServeRelayOptions,
} from "./serve_relay.ts";
export {
  CAPTIVE_CHALLENGE_HEADER,
  CAPTIVE_RESPONSE_HEADER,
  captivePortalResponse,
  INDEX_HTML,
  indexResponse,
  MAX_CAPTIVE_CHALLENGE_LENGTH,
  plainHttpResponse,
  ROBOTS_TXT,
  robotsResponse,
  TLS_RESPONSE_HEADERS,
} from "./http_pages.ts";
export { checkTlsPair, type TlsPair } from "./tls_pair.ts";
export type { WebSocketDial } from "./websocket_client.ts";
export type { UpgradedSocket } from "./_websocket_server.ts";
export { type DropReason, type RefusalReason, RelayMetrics } from "./metrics.ts";
export {
  ClientSendBudget,
  type DatagramRefusal,
  DEFAULT_SEND_BUDGET,
  SendBudget,
  type SendBudgetLimits,
} from "./send_budget.ts";
export {
  ClientReceiveBudget,
  DEFAULT_RECEIVE_BUDGET,
  ReceiveBudget,
  type ReceiveBudgetLimits,
} from "./receive_budget.ts";
export {
  dialViaRelay,
  type DialViaRelayOptions,
  type RelayPresence,
  serveViaRelay,
  type ServeViaRelayOptions,
} from "./relay_path.ts";
export type {
  CloseInfo,
  DuplexStream,
  LinkedConnection,
  PathLink,
  PeerConnection,
} from "../transport/mod.ts";
