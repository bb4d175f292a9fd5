/**
 * Discovery through pkarr, in iroh's format: an endpoint signs its relay URLs
 * and direct addresses as DNS TXT records under `_iroh.<z32 key>` and puts
 * them on a pkarr relay; anyone who knows its EndpointId can fetch and check
 * them. Pure codecs; no I/O.
 *
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * import { endpointIdToZ32, signRecord, verifySignedPacket } from "./mod.ts";
 *
 * const key = SecretKey.generate();
 * const body = signRecord(key, {
 *   relayUrls: ["https://relay.example/"],
 *   addrs: [{ hostname: "192.0.2.1", port: 4433 }],
 *   timestampMicros: BigInt(Date.now()) * 1000n,
 * });
 * // PUT body to https://dns.example/pkarr/<z32>; later, GET it back and check it:
 * const url = `https://dns.example/pkarr/${endpointIdToZ32(key.endpointId)}`;
 * const record = verifySignedPacket(key.endpointId, body);
 * console.log(url, record.relayUrls); // [ "https://relay.example/" ]
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
  encodeDnsResponse,
  encodeTxtData,
  MAX_DNS_PACKET_SIZE,
} from "./dns_packet.ts";
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
  DEFAULT_MAX_RECORDS,
  MAX_RECORD_LIFETIME_SECONDS,
  MIN_RECORD_LIFETIME_SECONDS,
  PKARR_CONTENT_TYPE,
  type PkarrStoreOptions,
} from "./pkarr_store.ts";
export type { EndpointId, SecretKey } from "../identity/mod.ts";
