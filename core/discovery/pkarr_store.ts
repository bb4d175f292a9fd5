/**
 * An in-memory pkarr relay: `PUT /pkarr/<z32>` stores a signed packet after
 * checking it, `GET /pkarr/<z32>` returns it, as iroh-dns-server's pkarr
 * routes do (with the pkarr relay spec's 409 and 413 for stale and oversized
 * bodies, where iroh-dns-server answers 204 and 400).
 * @module
 */
import type { EndpointId } from "../identity/mod.ts";
import { _readCappedBody } from "./_capped_body.ts";
import { _openSignedPacket, MAX_SIGNED_PACKET_BODY, SignedPacketError } from "./signed_packet.ts";
import { endpointIdFromZ32 } from "./z32.ts";

/** Media type of a signed packet body (iroh-dns-server's). */
export const PKARR_CONTENT_TYPE = "application/x-pkarr-signed-packet";

/**
 * Shortest time a record is kept, in seconds. iroh signs with a TTL of 30 s but
 * republishes only every 5 minutes; keeping a record for its TTL alone would
 * leave it absent most of the time. 15 minutes outlives two lost republishes.
 */
export const MIN_RECORD_LIFETIME_SECONDS = 15 * 60;
/** Longest time a record is kept, in seconds: a day, pkarr's largest TTL. */
export const MAX_RECORD_LIFETIME_SECONDS = 24 * 60 * 60;
/** Records kept by default: at most ~1.1 KB each, so ~110 MB when full. */
export const DEFAULT_MAX_RECORDS = 100_000;

/** Options of {@linkcode createPkarrHandler}. */
export interface PkarrStoreOptions {
  /** A monotonic clock in milliseconds (default `performance.now`); tests inject one. */
  now?: () => number;
  /** Most records held; when full, the least recently published goes. Default 100,000. */
  maxRecords?: number;
}

interface Entry {
  body: Uint8Array;
  timestampMicros: bigint;
  expiresAt: number;
}

const PATH = /^\/pkarr\/([^/]*)$/;

/**
 * Creates the store and its HTTP handler.
 *
 * - `PUT /pkarr/<z32>`: body = signature, timestamp, DNS packet (at most
 *   {@linkcode MAX_SIGNED_PACKET_BODY} bytes, else 413). The signature must
 *   verify for the key in the path (else 400), and the timestamp must be newer
 *   than the stored record's (else 409; the same bytes again are accepted).
 *   Answers 204.
 * - `GET /pkarr/<z32>`: 200 with the body and
 *   `Content-Type: application/x-pkarr-signed-packet`, or 404.
 *
 * A record expires its smallest TTL after it was stored, clamped to
 * {@linkcode MIN_RECORD_LIFETIME_SECONDS}..{@linkcode MAX_RECORD_LIFETIME_SECONDS}.
 * Errors are `text/plain`, one line. Other paths answer 404, other methods 405.
 *
 * @param options Clock and capacity.
 * @returns a handler for `Deno.serve` or any `fetch`-shaped caller.
 * @example
 * ```ts
 * const handler = createPkarrHandler();
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, handler);
 * ```
 */
export function createPkarrHandler(
  options: PkarrStoreOptions = {},
): (request: Request) => Promise<Response> {
  const now = options.now ?? (() => performance.now());
  const maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (!Number.isInteger(maxRecords) || maxRecords < 1) {
    throw new RangeError(`Cannot create pkarr store: maxRecords ${maxRecords} is not positive`);
  }
  // Insertion order is publish order: a record is re-inserted on each accepted PUT.
  const entries = new Map<string, Entry>();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const put = async (key: string, endpointId: EndpointId, request: Request): Promise<Response> => {
    const declared = Number(request.headers.get("content-length") ?? 0);
    const body = declared > MAX_SIGNED_PACKET_BODY
      ? undefined
      : await _readCappedBody(request.body, MAX_SIGNED_PACKET_BODY);
    if (!body) {
      return text(
        413,
        `Cannot store record: body exceeds the limit of ${MAX_SIGNED_PACKET_BODY} bytes`,
      );
    }
    let opened: ReturnType<typeof _openSignedPacket>;
    try {
      opened = _openSignedPacket(endpointId, body);
    } catch (error) {
      if (!(error instanceof SignedPacketError)) throw error;
      return text(400, error.message);
    }
    const { record, ttlSeconds } = opened;
    const stored = live(key);
    if (stored && !isSameBody(stored.body, body)) {
      if (record.timestampMicros <= stored.timestampMicros) {
        return text(
          409,
          `Cannot store record: timestamp ${record.timestampMicros} is not newer than the stored ${stored.timestampMicros}`,
        );
      }
    }
    const lifetime = Math.min(
      Math.max(ttlSeconds ?? 0, MIN_RECORD_LIFETIME_SECONDS),
      MAX_RECORD_LIFETIME_SECONDS,
    );
    entries.delete(key);
    while (entries.size >= maxRecords) entries.delete(entries.keys().next().value!);
    entries.set(key, {
      body: body.slice(),
      timestampMicros: record.timestampMicros,
      expiresAt: now() + lifetime * 1000,
    });
    return new Response(null, { status: 204 });
  };

  const get = (key: string): Response => {
    const entry = live(key);
    if (!entry) return text(404, "No record for this key");
    return new Response(entry.body.slice(), {
      status: 200,
      headers: { "content-type": PKARR_CONTENT_TYPE },
    });
  };

  return async (request: Request): Promise<Response> => {
    const match = PATH.exec(new URL(request.url).pathname);
    if (!match) return text(404, "Not found");
    if (request.method !== "GET" && request.method !== "PUT") {
      return text(405, `Method ${request.method} not allowed`, { allow: "GET, PUT" });
    }
    const key = match[1];
    let endpointId: EndpointId;
    try {
      endpointId = endpointIdFromZ32(key);
    } catch (error) {
      return text(400, (error as Error).message);
    }
    return request.method === "PUT" ? await put(key, endpointId, request) : get(key);
  };
}

function isSameBody(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  // One line, short: messages can quote a key or a timestamp, nothing longer.
  return new Response(message.replace(/\s+/g, " ").slice(0, 300), {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
