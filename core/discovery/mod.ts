/**
 * Discovery through pkarr, in iroh's format: an endpoint signs its relay URLs
 * and direct addresses as DNS TXT records under `_iroh.<z32 key>` and puts
 * them on a pkarr relay; anyone who knows its EndpointId can fetch and check
 * them. Codecs and the relay's store are pure; only the client sends requests,
 * through a `fetch` that tests replace with the store's handler, and only
 * {@linkcode openPersistentPkarrStore} touches a file (its SQLite records file,
 * so records survive a relay restart).
 *
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * import {
 *   createPkarrHandler,
 *   publishRecord,
 *   resolveRecord,
 *   signRecord,
 *   verifySignedPacket,
 * } from "./mod.ts";
 *
 * const key = SecretKey.generate();
 * const store = createPkarrHandler(); // or Deno.serve(createPkarrHandler())
 * const relay = { relayUrl: "http://relay.test/pkarr", fetch: store };
 * await publishRecord(key, {
 *   relayUrls: ["https://relay.example/"],
 *   addrs: [{ hostname: "192.0.2.1", port: 4433 }],
 *   timestampMicros: BigInt(Date.now()) * 1000n,
 * }, relay); // PUT http://relay.test/pkarr/<z32 key>
 * const record = await resolveRecord(key.endpointId, relay);
 * console.log(record?.relayUrls); // [ "https://relay.example/" ]
 *
 * // The codec alone: the body a relay stores, checked against the key.
 * const body = signRecord(key, { relayUrls: [], addrs: [], timestampMicros: 1n });
 * verifySignedPacket(key.endpointId, body).timestampMicros; // 1n
 * ```
 * @module
 */
export { decodeZ32, encodeZ32, endpointIdFromZ32, endpointIdToZ32, Z32_KEY_LENGTH } from "./z32.ts";
export {
  decodeDnsPacket,
  decodeTxtData,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  type DnsMessage,
  DnsPacketError,
  type DnsQuestion,
  type DnsRecord,
  encodeDnsMessage,
  encodeDnsResponse,
  encodeTxtData,
  MAX_DNS_PACKET_SIZE,
  MAX_DNS_TCP_MESSAGE_SIZE,
} from "./dns_packet.ts";
export {
  answerDnsQuery,
  DNS_RCODE,
  DNS_UDP_CLASSIC_SIZE,
  DNS_UDP_PAYLOAD_SIZE,
  type DnsResponderOptions,
  type DnsTransport,
  normalizeDnsOrigin,
} from "./dns_responder.ts";
export {
  DNS_MAX_TCP_CONNECTIONS,
  DNS_QUERIES_PER_SECOND,
  DNS_QUERY_BURST,
  DNS_TCP_DEADLINE_MS,
  type DnsServer,
  type DnsServerOptions,
  serveDns,
} from "./dns_server.ts";
export {
  createDohHandler,
  DNS_MESSAGE_CONTENT_TYPE,
  DOH_PATH,
  type DohOptions,
} from "./doh_handler.ts";
export {
  DNS_DEFAULT_PORT,
  type DnsExchange,
  type DnsLookupOptions,
  type DnsServerAddress,
  parseDnsServerUrl,
  resolveRecordByDns,
} from "./dns_client.ts";
export {
  MAX_SIGNED_PACKET_BODY,
  MAX_USER_DATA_LENGTH,
  PKARR_TTL_SECONDS,
  type PkarrRecord,
  SignedPacketError,
  signRecord,
  type SocketAddress,
  verifySignedPacket,
} from "./signed_packet.ts";
export {
  createPkarrHandler,
  createPkarrStore,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_RECORDS,
  DEFAULT_MAX_RECORDS_PER_ADDRESS,
  MAX_FUTURE_MS,
  MAX_RECORD_LIFETIME_SECONDS,
  MIN_RECORD_LIFETIME_SECONDS,
  PKARR_CONTENT_TYPE,
  type PkarrRequestInfo,
  type PkarrStore,
  type PkarrStoreOptions,
} from "./pkarr_store.ts";
export {
  LOAD_SLICE_ROWS,
  openPersistentPkarrStore,
  type PersistentPkarrStore,
  type PersistentPkarrStoreOptions,
  RECORD_FLUSH_INTERVAL_MS,
  type RecordFileLoad,
} from "./persistent_pkarr_store.ts";
export {
  maxRecordFileBytes,
  RecordFile,
  RecordFileError,
  type StoredRecord,
} from "./record_file.ts";
export {
  PKARR_REQUEST_TIMEOUT_MS,
  PkarrRelayError,
  type PkarrRelayOptions,
  publishRecord,
  resolveRecord,
} from "./pkarr_client.ts";
export {
  DhtMirror,
  type DhtMirrorCounts,
  type DhtMirrorOptions,
  MIRROR_LOOKUP_BURST,
  MIRROR_LOOKUPS_IN_FLIGHT,
  MIRROR_LOOKUPS_PER_SECOND,
  MIRROR_NEGATIVE_KEYS,
  MIRROR_NEGATIVE_MS,
  MIRROR_PUTS_IN_FLIGHT,
  MIRROR_RETRY_MS,
} from "./dht_mirror.ts";
export {
  publishRecordToDht,
  type RecordDht,
  type RecordItem,
  recordItemOf,
  resolveRecordFromDht,
  signedPacketOf,
} from "./dht_records.ts";
export {
  DHT_REPUBLISH_INTERVAL_MS,
  type Publisher,
  type PublisherOptions,
  type RecordDestination,
  REPUBLISH_INTERVAL_MS,
  startPublishing,
} from "./publisher.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
