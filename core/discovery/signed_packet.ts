/**
 * pkarr signed packets as iroh publishes them: an endpoint's relay URLs,
 * direct addresses and user data as TXT records under `_iroh.<z32 key>`,
 * signed with its Ed25519 key.
 *
 * The body (what a pkarr relay stores; the key travels in the URL) is the
 * 64-byte signature, the 8-byte big-endian timestamp in microseconds, then the
 * DNS packet. The signature covers `3:seqi<timestamp>e1:v<length>:<packet>`,
 * BEP 44's form of a mutable DHT item, so the same packet can go to the DHT.
 * @module
 */
import { type EndpointId, type SecretKey, verifyStrict } from "../identity/mod.ts";
import { formatIp, parseIp } from "../net/mod.ts";
import {
  decodeDnsPacket,
  decodeTxtData,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  type DnsMessage,
  DnsPacketError,
  type DnsRecord,
  encodeDnsResponse,
  encodeTxtData,
  MAX_DNS_PACKET_SIZE,
} from "./dns_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

/** An IP address and UDP port an endpoint can be reached at. */
export interface SocketAddress {
  /** IPv4 or IPv6 literal, without brackets. */
  hostname: string;
  /** 1 to 65535. */
  port: number;
}

/** What an endpoint publishes about itself, and when. */
export interface PkarrRecord {
  /** Relay URLs, e.g. `"https://relay.example/"` (written normalized, with the trailing slash). */
  relayUrls: string[];
  /** Direct addresses. */
  addrs: SocketAddress[];
  /** Free text for the application, at most {@linkcode MAX_USER_DATA_LENGTH} bytes of UTF-8. */
  userData?: string;
  /**
   * When the record was signed, in microseconds since the Unix epoch. A bigint
   * because the wire field is an unsigned 64-bit number; a relay keeps only the
   * record with the highest value, so each publish needs a larger one.
   */
  timestampMicros: bigint;
}

/** TTL of the TXT records, in seconds: iroh's `DEFAULT_PKARR_TTL`. */
export const PKARR_TTL_SECONDS = 30;
/** Longest user data iroh accepts: a 255-byte TXT string less `user-data=`. */
export const MAX_USER_DATA_LENGTH = 245;
/** Largest body: signature, timestamp and a DNS packet of at most 1000 bytes. */
export const MAX_SIGNED_PACKET_BODY: number = 64 + 8 + MAX_DNS_PACKET_SIZE;
/** The record name iroh publishes under, in front of the z32 key. */
const IROH_LABEL = "_iroh";
/** Bytes before a signed packet's DNS packet: the signature and the timestamp. */
export const SIGNED_PACKET_HEADER_SIZE = 64 + 8;
const HEADER_SIZE = SIGNED_PACKET_HEADER_SIZE;
const encoder = new TextEncoder();

/** A signed packet that is malformed, too large, or not signed by the expected key. */
export class SignedPacketError extends Error {
  /** Always "SignedPacketError". */
  override name = "SignedPacketError";
}

/**
 * Signs a record as iroh does: one TXT record per attribute (relay URLs, then
 * addresses, then user data), TTL {@linkcode PKARR_TTL_SECONDS}.
 *
 * @param secretKey The endpoint's key; its EndpointId names the record.
 * @param record What to publish.
 * @returns the body to PUT to a pkarr relay.
 * @throws {TypeError} when a relay URL or an address does not parse.
 * @throws {RangeError} when the timestamp, a port or the user data is out of range,
 *   or the DNS packet would exceed 1000 bytes.
 * @example
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * const body = signRecord(SecretKey.generate(), {
 *   relayUrls: ["https://relay.example/"],
 *   addrs: [{ hostname: "192.0.2.1", port: 4433 }],
 *   timestampMicros: BigInt(Date.now()) * 1000n,
 * });
 * ```
 */
export function signRecord(secretKey: SecretKey, record: PkarrRecord): Uint8Array<ArrayBuffer> {
  const { timestampMicros } = record;
  if (timestampMicros < 0n || timestampMicros >= 1n << 64n) {
    throw new RangeError(`Cannot sign record: timestamp ${timestampMicros} is not a u64`);
  }
  const attributes = [
    ...record.relayUrls.map((url) => `relay=${normalizeRelayUrl(url)}`),
    ...record.addrs.map((addr) => `addr=${formatSocketAddress(addr)}`),
  ];
  if (record.userData !== undefined) {
    const length = encoder.encode(record.userData).length;
    if (length > MAX_USER_DATA_LENGTH) {
      throw new RangeError(
        `Cannot sign record: user data of ${length} bytes exceeds the limit of ${MAX_USER_DATA_LENGTH}`,
      );
    }
    attributes.push(`user-data=${record.userData}`);
  }
  const name = `${IROH_LABEL}.${endpointIdToZ32(secretKey.endpointId)}`;
  const packet = encodeDnsResponse(attributes.map((text) => ({
    name,
    type: DNS_TYPE_TXT,
    class: DNS_CLASS_IN,
    ttl: PKARR_TTL_SECONDS,
    data: encodeTxtData([text]),
  })));
  const body = new Uint8Array(HEADER_SIZE + packet.length);
  body.set(secretKey.sign(_signable(timestampMicros, packet)), 0);
  new DataView(body.buffer).setBigUint64(64, timestampMicros);
  body.set(packet, HEADER_SIZE);
  return body;
}

/**
 * Checks a body against the key that should have signed it and reads the
 * record. Attributes iroh does not define, TXT records under other names and
 * values that do not parse are skipped, as iroh skips them.
 *
 * @param endpointId The key the body must be signed by (from the URL asked).
 * @param body Signature, timestamp and DNS packet.
 * @returns the record.
 * @throws {SignedPacketError} when the size is wrong, the signature does not verify,
 *   or the DNS packet is malformed; never another error.
 * @example
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * const key = SecretKey.generate();
 * const body = signRecord(key, { relayUrls: [], addrs: [], timestampMicros: 1n });
 * verifySignedPacket(key.endpointId, body).timestampMicros; // 1n
 * ```
 */
export function verifySignedPacket(endpointId: EndpointId, body: Uint8Array): PkarrRecord {
  return _openSignedPacket(endpointId, body).record;
}

/**
 * {@linkcode verifySignedPacket}, also returning the smallest TTL of the
 * packet's answers (undefined without answers), which a relay's expiry uses.
 */
export function _openSignedPacket(
  endpointId: EndpointId,
  body: Uint8Array,
): { record: PkarrRecord; ttlSeconds: number | undefined } {
  if (body.length < HEADER_SIZE) {
    throw new SignedPacketError(
      `Cannot verify signed packet: ${body.length} bytes is shorter than its ${HEADER_SIZE}-byte header`,
    );
  }
  if (body.length > MAX_SIGNED_PACKET_BODY) {
    throw new SignedPacketError(
      `Cannot verify signed packet: ${body.length} bytes exceeds the limit of ${MAX_SIGNED_PACKET_BODY}`,
    );
  }
  const timestampMicros = new DataView(body.buffer, body.byteOffset).getBigUint64(64);
  const packet = body.subarray(HEADER_SIZE);
  if (!verifyStrict(body.subarray(0, 64), _signable(timestampMicros, packet), endpointId.bytes)) {
    throw new SignedPacketError(`Cannot verify signed packet: not signed by ${endpointId}`);
  }
  let message: DnsMessage;
  try {
    message = decodeDnsPacket(packet);
  } catch (error) {
    if (!(error instanceof DnsPacketError)) throw error;
    throw new SignedPacketError(
      `Cannot verify signed packet: malformed DNS packet: ${error.message}`,
      {
        cause: error,
      },
    );
  }
  const ttls = message.answers.map((answer) => answer.ttl);
  return {
    record: readAttributes(message, endpointId, timestampMicros),
    ttlSeconds: ttls.length === 0 ? undefined : Math.min(...ttls),
  };
}

/** The bytes the signature covers: BEP 44's bencoded `seq` and `v`. */
export function _signable(timestampMicros: bigint, packet: Uint8Array): Uint8Array {
  const prefix = encoder.encode(`3:seqi${timestampMicros}e1:v${packet.length}:`);
  const out = new Uint8Array(prefix.length + packet.length);
  out.set(prefix);
  out.set(packet, prefix.length);
  return out;
}

function readAttributes(
  message: DnsMessage,
  endpointId: EndpointId,
  timestampMicros: bigint,
): PkarrRecord {
  return _recordFromAnswers(
    message.answers,
    `${IROH_LABEL}.${endpointIdToZ32(endpointId)}`,
    timestampMicros,
  );
}

/**
 * The record the TXT answers named `name` (lowercase) make, read as
 * {@linkcode verifySignedPacket} reads a packet's: a DNS lookup's answers,
 * named `_iroh.<z32>.<origin>`, give the same record.
 */
export function _recordFromAnswers(
  answers: readonly DnsRecord[],
  name: string,
  timestampMicros: bigint,
): PkarrRecord {
  const relayUrls = new Set<string>();
  const addrs = new Map<string, SocketAddress>();
  let userData: string | undefined;
  for (const answer of answers) {
    if (answer.type !== DNS_TYPE_TXT || answer.name.toLowerCase() !== name) continue;
    let text: string;
    try {
      text = decodeTxtData(answer.data).join("");
    } catch {
      continue; // not UTF-8: iroh skips it too
    }
    const equals = text.indexOf("=");
    if (equals < 0) continue;
    const [key, value] = [text.slice(0, equals), text.slice(equals + 1)];
    if (key === "relay" && URL.canParse(value)) relayUrls.add(new URL(value).href);
    if (key === "addr") {
      const addr = parseSocketAddress(value);
      if (addr) addrs.set(formatSocketAddress(addr), addr);
    }
    if (key === "user-data" && userData === undefined) {
      if (encoder.encode(value).length <= MAX_USER_DATA_LENGTH) userData = value;
    }
  }
  const record: PkarrRecord = {
    relayUrls: [...relayUrls],
    addrs: [...addrs.values()],
    timestampMicros,
  };
  if (userData !== undefined) record.userData = userData;
  return record;
}

function normalizeRelayUrl(url: string): string {
  if (!URL.canParse(url)) {
    throw new TypeError(`Cannot sign record: invalid relay URL ${JSON.stringify(url)}`);
  }
  return new URL(url).href;
}

/** `192.0.2.1:4433` or `[2001:db8::1]:4433`, as Rust prints a SocketAddr. */
function formatSocketAddress(addr: SocketAddress): string {
  const ip = parseIp(addr.hostname);
  if (!ip) {
    throw new TypeError(
      `Cannot sign record: ${JSON.stringify(addr.hostname)} is not an IP address`,
    );
  }
  if (!Number.isInteger(addr.port) || addr.port < 1 || addr.port > 65535) {
    throw new RangeError(`Cannot sign record: port ${addr.port} is not in 1..65535`);
  }
  return ip.length === 4 ? `${formatIp(ip)}:${addr.port}` : `[${formatIp(ip)}]:${addr.port}`;
}

function parseSocketAddress(text: string): SocketAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(text);
  // Brackets hold IPv6 only, as in Rust's SocketAddr syntax.
  if (!match || (match[1] !== undefined && !match[1].includes(":"))) return undefined;
  const ip = parseIp(match[1] ?? match[2]);
  const port = Number(match[3]);
  if (!ip || port < 1 || port > 65535) return undefined;
  return { hostname: formatIp(ip), port };
}
