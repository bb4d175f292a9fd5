/**
 * The DNS face of a pkarr store (sans-IO: query bytes in, answer bytes out),
 * answering as iroh-dns-server does: `<name>.<z32>.<origin>` is the record
 * `<name>.<z32>` of the signed packet stored for key `<z32>`, so iroh's
 * `_iroh.<z32>.<origin>` TXT lookup gets the endpoint's TXT records, with the
 * TTL they were signed with.
 *
 * - A name under the origin with no such record (no packet for the key, a
 *   label that is not a key, or no record of that type) is NXDOMAIN, as in
 *   iroh-dns-server; the origin itself is NOERROR with no answer.
 * - Names outside the origin, classes other than IN and zone transfers are
 *   REFUSED; opcodes other than QUERY are NOTIMP; a query that does not
 *   decode, or has other than one question or more than one OPT, is FORMERR.
 * - Only A, AAAA and TXT are served (their RDATA holds no name, so it is
 *   copied as signed); ANY gets them all (one packet's worth, RFC 8482 allows).
 * - Over UDP an answer is at most 512 bytes, or the EDNS0 size asked for up to
 *   {@linkcode DNS_UDP_PAYLOAD_SIZE}; one that does not fit goes as header and
 *   question with TC set, for the client to ask again over TCP.
 * - Messages that are answers (QR set) or shorter than a header get no reply:
 *   answering them could make two servers bounce packets forever.
 * @module
 */
import {
  decodeDnsPacket,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  type DnsMessage,
  DnsPacketError,
  type DnsQuestion,
  type DnsRecord,
  encodeDnsMessage,
  MAX_DNS_TCP_MESSAGE_SIZE,
} from "./dns_packet.ts";
import { SIGNED_PACKET_HEADER_SIZE } from "./signed_packet.ts";
import { Z32_KEY_LENGTH } from "./z32.ts";

/** Largest UDP answer offered with EDNS0: the DNS Flag Day 2020 size, below any path's MTU. */
export const DNS_UDP_PAYLOAD_SIZE = 1232;
/** Largest UDP answer to a query without EDNS0 (RFC 1035). */
export const DNS_UDP_CLASSIC_SIZE = 512;

/** Response codes this responder sends. */
export const DNS_RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const TYPE_IXFR = 251;
const TYPE_AXFR = 252;
const TYPE_ANY = 255;
const SERVED_TYPES = new Set([TYPE_A, TYPE_AAAA, DNS_TYPE_TXT]);
const HEADER_SIZE = 12;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
/** EDNS versions above 0 get BADVERS: extended rcode 16, whose upper 8 bits are 1. */
const BADVERS_UPPER = 1;
const Z32_LABEL = new RegExp(`^[ybndrfg8ejkmcpqxot1uwisza345h769]{${Z32_KEY_LENGTH}}$`);

/** What the responder serves. */
export interface DnsResponderOptions {
  /** The zone, e.g. `dns.example.org` (no trailing dot; case does not matter). */
  origin: string;
  /** The stored signed packet (signature, timestamp, DNS packet) of a key in z32, if any. */
  lookup: (z32Key: string) => Uint8Array | undefined;
}

/** How the query came, which bounds the answer's size. */
export type DnsTransport = "udp" | "tcp";

/**
 * Checks an origin as `--dns-origin` takes it and returns it lowercased,
 * without a trailing dot.
 * @throws {TypeError} for an empty origin or one that is not a DNS name of letters, digits, `-` and `_`.
 */
export function normalizeDnsOrigin(origin: string): string {
  const name = origin.replace(/\.$/, "").toLowerCase();
  const labels = name.split(".");
  if (
    name.length === 0 || name.length > 200 ||
    !labels.every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label))
  ) {
    throw new TypeError(
      `Invalid DNS origin '${origin}': expected a domain name such as dns.example.org`,
    );
  }
  return name;
}

/**
 * Answers one DNS query.
 *
 * @param query The message as received (a UDP datagram, or a TCP message without its length).
 * @param transport Where it came from: UDP answers are bounded as the module says.
 * @param options The origin and the store.
 * @returns the answer, or `undefined` when the message gets none (an answer, or shorter than a header).
 *   Never throws for any input.
 * @example
 * ```ts
 * const answer = answerDnsQuery(queryBytes, "udp", {
 *   origin: "dns.example.org",
 *   lookup: (key) => undefined,
 * });
 * ```
 */
export function answerDnsQuery(
  query: Uint8Array,
  transport: DnsTransport,
  options: DnsResponderOptions,
): Uint8Array<ArrayBuffer> | undefined {
  if (query.length < HEADER_SIZE) return undefined;
  const id = (query[0] << 8) | query[1];
  const queryFlags = (query[2] << 8) | query[3];
  if (queryFlags & FLAG_QR) return undefined;
  const reply = (
    rcode: number,
    questions: DnsQuestion[] = [],
    answers: DnsRecord[] = [],
    opt?: DnsRecord,
  ): DnsMessage => ({
    id,
    flags: FLAG_QR | FLAG_AA | (queryFlags & FLAG_RD) | (queryFlags & 0x7800) | rcode,
    questions,
    answers,
    authorities: [],
    additionals: opt ? [opt] : [],
  });
  let message: DnsMessage;
  try {
    message = decodeDnsPacket(query);
  } catch (error) {
    if (!(error instanceof DnsPacketError)) throw error;
    return encodeDnsMessage(reply(DNS_RCODE.FORMERR), DNS_UDP_CLASSIC_SIZE);
  }
  const opts = message.additionals.filter((record) => record.type === TYPE_OPT);
  const [question] = message.questions;
  if (message.questions.length !== 1 || opts.length > 1 || (opts[0] && opts[0].name !== ".")) {
    return encodeDnsMessage(reply(DNS_RCODE.FORMERR), DNS_UDP_CLASSIC_SIZE);
  }
  const edns = opts[0];
  const limit = transport === "tcp"
    ? MAX_DNS_TCP_MESSAGE_SIZE
    : edns
    ? Math.min(Math.max(edns.class, DNS_UDP_CLASSIC_SIZE), DNS_UDP_PAYLOAD_SIZE)
    : DNS_UDP_CLASSIC_SIZE;
  // An EDNS query gets our OPT back (RFC 6891); its options are not echoed.
  const ednsVersion = edns ? (edns.ttl >>> 16) & 0xff : 0;
  const opt = edns ? optRecord(ednsVersion === 0 ? 0 : BADVERS_UPPER) : undefined;
  let answer: DnsMessage;
  if (ednsVersion !== 0) answer = reply(DNS_RCODE.NOERROR, [question], [], opt);
  else if ((queryFlags & 0x7800) !== 0) answer = reply(DNS_RCODE.NOTIMP, [question], [], opt);
  else {
    const { rcode, answers } = resolve(question, options);
    answer = reply(rcode, [question], answers, opt);
  }
  try {
    return encodeDnsMessage(answer, limit);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    // Too large for this transport: the question alone, truncated, says "ask over TCP".
    const truncated = reply(answer.flags & 0xf, [question], [], opt);
    truncated.flags |= FLAG_TC;
    try {
      return encodeDnsMessage(truncated, limit);
    } catch {
      return encodeDnsMessage({ ...truncated, questions: [] }, limit);
    }
  }
}

function optRecord(extendedRcodeUpper: number): DnsRecord {
  return {
    name: ".",
    type: TYPE_OPT,
    class: DNS_UDP_PAYLOAD_SIZE,
    ttl: (extendedRcodeUpper << 24) >>> 0,
    data: new Uint8Array(0),
  };
}

function resolve(
  question: DnsQuestion,
  options: DnsResponderOptions,
): { rcode: number; answers: DnsRecord[] } {
  const none = (rcode: number) => ({ rcode, answers: [] });
  const origin = options.origin.toLowerCase();
  const name = question.name.toLowerCase();
  if (name !== origin && !name.endsWith(`.${origin}`)) return none(DNS_RCODE.REFUSED);
  if (question.class !== DNS_CLASS_IN) return none(DNS_RCODE.REFUSED);
  if (question.type === TYPE_AXFR || question.type === TYPE_IXFR) return none(DNS_RCODE.REFUSED);
  if (name === origin) return none(DNS_RCODE.NOERROR);
  const labels = name.slice(0, -origin.length - 1).split(".");
  const key = labels[labels.length - 1];
  if (!Z32_LABEL.test(key)) return none(DNS_RCODE.NXDOMAIN);
  const body = options.lookup(key);
  if (!body) return none(DNS_RCODE.NXDOMAIN);
  let records: DnsRecord[];
  try {
    records = decodeDnsPacket(body.subarray(SIGNED_PACKET_HEADER_SIZE)).answers;
  } catch {
    return none(DNS_RCODE.NXDOMAIN); // the store checked it; nothing to serve if not
  }
  const owner = labels.join(".");
  const answers = records
    .filter((record) =>
      record.name.toLowerCase() === owner && record.class === DNS_CLASS_IN &&
      SERVED_TYPES.has(record.type) &&
      (question.type === TYPE_ANY || record.type === question.type)
    )
    .map((record) => ({ ...record, name: question.name }));
  return answers.length > 0 ? { rcode: DNS_RCODE.NOERROR, answers } : none(DNS_RCODE.NXDOMAIN);
}
