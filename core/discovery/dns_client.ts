/**
 * Looking an endpoint's record up over DNS, as iroh endpoints do: a TXT query
 * for `_iroh.<z32>.<origin>` to a DNS server (a `tunnel relay --dns-bind`, an
 * iroh-dns-server), over UDP, again over TCP when the answer comes truncated.
 * The server is named by an RFC 4501 URL, `dns://IP:PORT/ORIGIN`.
 *
 * A DNS answer carries the TXT records but not their signature: the record is
 * as trustworthy as the server and the path to it, as for iroh's DNS lookups.
 * The connection that follows proves the server's key either way.
 * @module
 */
import type { EndpointId } from "../identity/mod.ts";
import { formatIp, parseIp } from "../net/mod.ts";
import {
  decodeDnsPacket,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  type DnsMessage,
  DnsPacketError,
  encodeDnsMessage,
  MAX_DNS_TCP_MESSAGE_SIZE,
} from "./dns_packet.ts";
import { DNS_UDP_PAYLOAD_SIZE, normalizeDnsOrigin } from "./dns_responder.ts";
import { PKARR_REQUEST_TIMEOUT_MS, PkarrRelayError } from "./pkarr_client.ts";
import { _recordFromAnswers, type PkarrRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

/** The port of a `dns://` URL that names none. */
export const DNS_DEFAULT_PORT = 53;

/** A DNS server to ask, and the zone it serves records under. */
export interface DnsServerAddress {
  /** IP literal, without brackets. */
  hostname: string;
  /** UDP and TCP port. */
  port: number;
  /** The zone, lowercase, without a trailing dot. */
  origin: string;
}

/** Sends one query and returns the answer's bytes; tests pass a fake one. */
export type DnsExchange = (
  query: Uint8Array,
  transport: "udp" | "tcp",
  server: DnsServerAddress,
  signal: AbortSignal,
) => Promise<Uint8Array>;

/** How to look a record up over DNS. */
export interface DnsLookupOptions {
  /** The server, `dns://IP[:PORT]/ORIGIN`. */
  server: string;
  /** Cancels the lookup. */
  signal?: AbortSignal;
  /** Gives up after this long, both tries together (default {@linkcode PKARR_REQUEST_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Sends a query (default: real UDP and TCP sockets). */
  exchange?: DnsExchange;
}

const IROH_LABEL = "_iroh";
const TYPE_OPT = 41;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const RCODE_NXDOMAIN = 3;
const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/**
 * Reads a `dns://IP[:PORT]/ORIGIN` URL.
 * @throws {TypeError} "Invalid <flag> '<url>': ..." naming what is wrong.
 * @example
 * ```ts
 * parseDnsServerUrl("dns://127.0.0.1:5300/dns.example.org", "--dns-server");
 * // { hostname: "127.0.0.1", port: 5300, origin: "dns.example.org" }
 * ```
 */
export function parseDnsServerUrl(url: string, flag: string): DnsServerAddress {
  const bad = (why: string) =>
    new TypeError(`Invalid ${flag} '${url}': ${why} (expected dns://IP[:PORT]/ORIGIN)`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("not a URL");
  }
  if (parsed.protocol !== "dns:") throw bad("not a dns:// URL");
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw bad("only a server and an origin belong in it");
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  const ip = parseIp(host);
  if (!ip) throw bad("the server must be an IP address");
  const origin = parsed.pathname.replace(/^\//, "");
  if (origin === "") throw bad("name the zone the server serves records under");
  let zone: string;
  try {
    zone = normalizeDnsOrigin(decodeURIComponent(origin));
  } catch (error) {
    throw bad((error as Error).message);
  }
  return {
    hostname: formatIp(ip),
    port: parsed.port === "" ? DNS_DEFAULT_PORT : Number(parsed.port),
    origin: zone,
  };
}

/**
 * Asks the DNS server for the TXT records of `_iroh.<z32>.<origin>` and reads
 * them as a pkarr packet's (`timestampMicros` is 0: DNS does not carry it).
 *
 * @param endpointId The endpoint asked about.
 * @param options The server, and optionally a signal, timeout and exchange.
 * @returns the record, or `undefined` when the server has none (NXDOMAIN, or no TXT record).
 * @throws {TypeError} for a malformed server URL.
 * @throws {PkarrRelayError} "Cannot resolve dns://<server>/<name>: <why>" when no answer came
 *   in time, the server answered with an error or with a message that is not an answer to the query.
 * @example
 * ```ts
 * import { EndpointId } from "../identity/mod.ts";
 * const record = await resolveRecordByDns(EndpointId.parse("<52 base32 characters>"), {
 *   server: "dns://127.0.0.1:5300/dns.example.org",
 * });
 * ```
 */
export async function resolveRecordByDns(
  endpointId: EndpointId,
  options: DnsLookupOptions,
): Promise<PkarrRecord | undefined> {
  const server = parseDnsServerUrl(options.server, "DNS server");
  const name = `${IROH_LABEL}.${endpointIdToZ32(endpointId)}.${server.origin}`;
  const host = server.hostname.includes(":") ? `[${server.hostname}]` : server.hostname;
  const url = `dns://${host}:${server.port}/${name}`;
  const fail = (why: string, cause?: unknown) =>
    new PkarrRelayError(`Cannot resolve ${url}: ${why}`, url, undefined, { cause });
  const timeoutMs = options.timeoutMs ?? PKARR_REQUEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const exchange = options.exchange ?? socketExchange;
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const query = encodeDnsMessage({
    id,
    flags: FLAG_RD,
    questions: [{ name, type: DNS_TYPE_TXT, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    // EDNS0: room for a whole record in one datagram.
    additionals: [{
      name: ".",
      type: TYPE_OPT,
      class: DNS_UDP_PAYLOAD_SIZE,
      ttl: 0,
      data: new Uint8Array(0),
    }],
  }, MAX_DNS_TCP_MESSAGE_SIZE);
  const ask = async (transport: "udp" | "tcp"): Promise<DnsMessage> => {
    let bytes: Uint8Array;
    try {
      bytes = await exchange(query, transport, server, signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) throw fail(`no answer within ${timeoutMs / 1000} s`, error);
      throw fail(`${transport.toUpperCase()}: ${(error as Error).message}`, error);
    }
    let message: DnsMessage;
    try {
      message = decodeDnsPacket(bytes);
    } catch (error) {
      if (!(error instanceof DnsPacketError)) throw error;
      throw fail(`malformed answer: ${error.message}`, error);
    }
    const [question] = message.questions;
    if (
      message.id !== id || !(message.flags & FLAG_QR) || message.questions.length !== 1 ||
      question.name.toLowerCase() !== name || question.type !== DNS_TYPE_TXT
    ) {
      throw fail("the answer is not for the query sent");
    }
    return message;
  };
  let answer = await ask("udp");
  if (answer.flags & FLAG_TC) answer = await ask("tcp");
  const rcode = answer.flags & 0xf;
  if (rcode === RCODE_NXDOMAIN) return undefined;
  if (rcode !== 0) throw fail(`the server answered ${RCODE_NAMES[rcode] ?? `rcode ${rcode}`}`);
  const txt = answer.answers.filter((record) => record.type === DNS_TYPE_TXT);
  if (txt.length === 0) return undefined;
  return _recordFromAnswers(txt, name, 0n);
}

/** Real sockets: a UDP datagram from an ephemeral port, or one TCP exchange. */
const socketExchange: DnsExchange = (query, transport, server, signal) =>
  transport === "udp" ? udpExchange(query, server, signal) : tcpExchange(query, server, signal);

async function udpExchange(
  query: Uint8Array,
  server: DnsServerAddress,
  signal: AbortSignal,
): Promise<Uint8Array> {
  signal.throwIfAborted();
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: server.hostname.includes(":") ? "::" : "0.0.0.0",
    port: 0,
  });
  const onAbort = () => socket.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const to: Deno.NetAddr = { transport: "udp", hostname: server.hostname, port: server.port };
    await socket.send(query, to);
    const buffer = new Uint8Array(MAX_DNS_TCP_MESSAGE_SIZE);
    for (;;) {
      const [datagram, from] = await socket.receive(buffer);
      const sender = from as Deno.NetAddr;
      // Only the server's datagrams; the id check after decoding does the rest.
      if (sender.port === server.port && formatIp(parseIp(sender.hostname)!) === server.hostname) {
        return datagram.slice();
      }
    }
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    try {
      socket.close();
    } catch { /* closed by abort */ }
  }
}

async function tcpExchange(
  query: Uint8Array,
  server: DnsServerAddress,
  signal: AbortSignal,
): Promise<Uint8Array> {
  signal.throwIfAborted();
  const conn = await Deno.connect({ hostname: server.hostname, port: server.port, signal });
  const onAbort = () => conn.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const framed = new Uint8Array(2 + query.length);
    framed[0] = query.length >> 8;
    framed[1] = query.length & 0xff;
    framed.set(query, 2);
    for (let sent = 0; sent < framed.length;) sent += await conn.write(framed.subarray(sent));
    const prefix = await readExactly(conn, 2);
    return await readExactly(conn, (prefix[0] << 8) | prefix[1]);
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    try {
      conn.close();
    } catch { /* closed by abort */ }
  }
}

async function readExactly(conn: Deno.Conn, count: number): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  for (let filled = 0; filled < count;) {
    const read = await conn.read(out.subarray(filled));
    if (read === null) throw new Error("the server closed the connection before answering");
    filled += read;
  }
  return out;
}
