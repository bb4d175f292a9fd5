/**
 * DNS over HTTPS (RFC 8484) for the DNS face: `GET /dns-query?dns=<base64url>`
 * and `POST /dns-query` with an `application/dns-message` body, answered by
 * {@linkcode answerDnsQuery} as over TCP (HTTP carries any size). Bounded as
 * the UDP and TCP faces are: queries per source network, and the query's size.
 * @module
 */
import { addressGroup } from "../net/mod.ts";
import { AddressBuckets } from "./_address_buckets.ts";
import { _readCappedBody } from "./_capped_body.ts";
import { decodeDnsPacket, MAX_DNS_PACKET_SIZE } from "./dns_packet.ts";
import { answerDnsQuery, type DnsResponderOptions } from "./dns_responder.ts";
import { DNS_QUERIES_PER_SECOND, DNS_QUERY_BURST } from "./dns_server.ts";
import type { PkarrRequestInfo } from "./pkarr_store.ts";

/** The media type of a DNS message over HTTP. */
export const DNS_MESSAGE_CONTENT_TYPE = "application/dns-message";
/** The path RFC 8484 suggests and iroh-dns-server serves. */
export const DOH_PATH = "/dns-query";

/** Options of {@linkcode createDohHandler}. */
export interface DohOptions extends DnsResponderOptions {
  /** Query rates per source network, for tests; defaults as for UDP and TCP. */
  rates?: { burst?: number; perSecond?: number };
  /** A monotonic clock in ms (default `performance.now`). */
  now?: () => number;
}

/**
 * Creates the `/dns-query` handler.
 *
 * Answers 200 with the DNS answer (`Cache-Control: max-age` the smallest TTL
 * of its answers), 400 for a missing or malformed `dns` parameter or a message
 * that is not a query, 413 for a query over {@linkcode MAX_DNS_PACKET_SIZE}
 * bytes, 415 for a POST of another type, 405 for other methods, 429 past the
 * source's rate; errors are one line of `text/plain`.
 *
 * @param options The origin, the store and the bounds.
 * @returns a handler for the relay's HTTP server.
 * @example
 * ```ts
 * const doh = createDohHandler({ origin: "dns.example.org", lookup: () => undefined });
 * const query = "AAABAAABAAAAAAAAA2RucwdleGFtcGxlA29yZwAAEAAB"; // dns.example.org TXT
 * const response = await doh(new Request(`http://relay.test/dns-query?dns=${query}`));
 * ```
 */
export function createDohHandler(
  options: DohOptions,
): (request: Request, info?: PkarrRequestInfo) => Promise<Response> {
  const now = options.now ?? (() => performance.now());
  const buckets = new AddressBuckets({
    burst: options.rates?.burst ?? DNS_QUERY_BURST,
    perSecond: options.rates?.perSecond ?? DNS_QUERIES_PER_SECOND,
  });
  const responder = { origin: options.origin, lookup: options.lookup };
  return async (request, info) => {
    if (request.method !== "GET" && request.method !== "POST") {
      return text(405, `Method ${request.method} not allowed`, { allow: "GET, POST" });
    }
    if (!buckets.take(addressGroup(info?.remoteAddr?.hostname ?? ""), now())) {
      await request.body?.cancel();
      return text(429, "Too many DNS queries from this address; try again later", {
        "retry-after": "1",
      });
    }
    let query: Uint8Array;
    if (request.method === "GET") {
      const encoded = new URL(request.url).searchParams.get("dns");
      if (encoded === null) return text(400, "Missing the dns parameter (RFC 8484)");
      // base64url of the largest query, with room: longer is refused before decoding.
      if (encoded.length > Math.ceil(MAX_DNS_PACKET_SIZE * 4 / 3) + 4) return tooLarge();
      const decoded = decodeUnpaddedBase64Url(encoded);
      if (!decoded) return text(400, "The dns parameter is not unpadded base64url");
      query = decoded;
    } else {
      const type = request.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
      if (type !== DNS_MESSAGE_CONTENT_TYPE) {
        await request.body?.cancel();
        return text(415, `A POST to ${DOH_PATH} carries ${DNS_MESSAGE_CONTENT_TYPE}`);
      }
      const declared = Number(request.headers.get("content-length") ?? 0);
      const body = declared > MAX_DNS_PACKET_SIZE
        ? undefined
        : await _readCappedBody(request.body, MAX_DNS_PACKET_SIZE).catch(() => new Uint8Array(0));
      if (!body) {
        await request.body?.cancel().catch(() => {});
        return tooLarge();
      }
      query = body;
    }
    if (query.length > MAX_DNS_PACKET_SIZE) return tooLarge();
    const answer = answerDnsQuery(query, "tcp", responder);
    if (!answer) return text(400, "Not a DNS query");
    const ttls = decodeDnsPacket(answer).answers.map((record) => record.ttl);
    const headers: Record<string, string> = { "content-type": DNS_MESSAGE_CONTENT_TYPE };
    if (ttls.length > 0) headers["cache-control"] = `max-age=${Math.min(...ttls)}`;
    return new Response(answer, { status: 200, headers });
  };
}

/** RFC 4648 base64url without padding, as RFC 8484 sends a query; `undefined` if it is not. */
function decodeUnpaddedBase64Url(encoded: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(encoded) || encoded.length % 4 === 1) return undefined;
  const base64 = encoded.replace(/-/g, "+").replace(/_/g, "/");
  try {
    return Uint8Array.from(
      atob(base64 + "=".repeat((4 - base64.length % 4) % 4)),
      (c) => c.charCodeAt(0),
    );
  } catch {
    return undefined;
  }
}

function tooLarge(): Response {
  return text(413, `DNS query exceeds the limit of ${MAX_DNS_PACKET_SIZE} bytes`);
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
