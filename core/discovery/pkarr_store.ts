/**
 * An in-memory pkarr relay: `PUT /pkarr/<z32>` stores a signed packet after
 * checking it, `GET /pkarr/<z32>` returns it, as iroh-dns-server's pkarr
 * routes do (with the pkarr relay spec's 409 and 413 for stale and oversized
 * bodies, where iroh-dns-server answers 204 and 400). Writes can require an
 * access token, are rate-limited per address and per key, and the store is
 * bounded in count and bytes; what may evict what is `_record_table.ts`'s.
 * @module
 */
import { BearerTokenSet } from "../auth/mod.ts";
import { addressGroup } from "../net/mod.ts";
import type { EndpointId } from "../identity/mod.ts";
import {
  ADDRESS_WRITE_BURST,
  ADDRESS_WRITES_PER_SECOND,
  AddressBuckets,
} from "./_address_buckets.ts";
import { _readCappedBody } from "./_capped_body.ts";
import { type RecordRefusal, RecordTable } from "./_record_table.ts";
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
export {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_RECORDS,
  DEFAULT_MAX_RECORDS_PER_ADDRESS,
  MAX_FUTURE_MS,
} from "./_record_table.ts";
/** Refusals are summed up in one log line at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** Options of {@linkcode createPkarrHandler}. */
export interface PkarrStoreOptions {
  /** A monotonic clock in milliseconds (default `performance.now`); tests inject one. */
  now?: () => number;
  /** The wall clock in ms since the epoch (default `Date.now`), bounding timestamps ahead. */
  wallClock?: () => number;
  /** Most records held. Default {@linkcode DEFAULT_MAX_RECORDS}. */
  maxRecords?: number;
  /** Most bytes held (bodies plus 512 each). Default {@linkcode DEFAULT_MAX_BYTES}. */
  maxBytes?: number;
  /** Most records one address (IPv4, IPv6 /64) holds. Default {@linkcode DEFAULT_MAX_RECORDS_PER_ADDRESS}. */
  maxRecordsPerAddress?: number;
  /**
   * Writes need one of these (`Authorization: Bearer TOKEN` or `?token=`,
   * compared in constant time); reads stay open, records being signed.
   */
  accessTokens?: string[];
  /** Whether an endpoint is connected to this relay: its record is never evicted. */
  isConnected?: (endpointId: EndpointId) => boolean;
  /** Where the summary of refused writes goes (one line a minute at most). */
  log?: (line: string) => void;
  /** Told of each record a PUT stored (a DHT mirror puts it into the DHT). */
  onPut?: (z32Key: string, endpointId: EndpointId) => void;
  /**
   * Asked on a GET of a key the store lacks (a DHT mirror looks it up there):
   * a signed packet it returns is checked like a PUT, kept, and served.
   */
  fetchMissing?: (
    z32Key: string,
    endpointId: EndpointId,
    address: string,
  ) => Promise<Uint8Array | undefined>;
  /** Write rates, for tests: per address (burst, per second) and per key. */
  rates?: {
    addressBurst?: number;
    addressPerSecond?: number;
    keyBurst?: number;
    keyPerSecond?: number;
  };
}

/**
 * Who sent a request: the shape of `Deno.serve`'s handler info, so the
 * handler serves there as is. Without it, all writers count as one address.
 */
export interface PkarrRequestInfo {
  /** The peer's address. */
  remoteAddr?: { hostname: string };
}

const PATH = /^\/pkarr\/([^/]*)$/;

/**
 * Creates the store and its HTTP handler.
 *
 * - `PUT /pkarr/<z32>`: body = signature, timestamp, DNS packet (at most
 *   {@linkcode MAX_SIGNED_PACKET_BODY} bytes, else 413). With `accessTokens`,
 *   it needs one (else 401). The signature must verify for the key in the path
 *   (else 400), the timestamp must be newer than the stored record's (else 409;
 *   the same bytes again are accepted) and at most {@linkcode MAX_FUTURE_MS}
 *   ahead of the wall clock (else 400). 429 when the address (20 writes at
 *   once, then 1/s) or the key (10 changes, then one per 10 s) is over its
 *   rate, when the address holds its share of records, or when the store is
 *   full and nothing may be evicted. Answers 204.
 * - `GET /pkarr/<z32>`: 200 with the body and
 *   `Content-Type: application/x-pkarr-signed-packet`, or 404.
 *
 * A record expires its smallest TTL after it was stored, clamped to
 * {@linkcode MIN_RECORD_LIFETIME_SECONDS}..{@linkcode MAX_RECORD_LIFETIME_SECONDS}.
 * Errors are `text/plain`, one line. Other paths answer 404, other methods 405.
 *
 * @param options Clocks, capacity, tokens, the relay's connected keys.
 * @returns a handler for `Deno.serve` or any `fetch`-shaped caller.
 * @throws {RangeError} for a capacity or rate that is not positive.
 * @example
 * ```ts
 * const handler = createPkarrHandler({ accessTokens: ["s3cret"] });
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, handler);
 * ```
 */
export function createPkarrHandler(
  options: PkarrStoreOptions = {},
): (request: Request, info?: PkarrRequestInfo) => Promise<Response> {
  return createPkarrStore(options).handler;
}

/** A pkarr store: its HTTP handler, and reads for its other faces (DNS). */
export interface PkarrStore {
  /** The HTTP handler of {@linkcode createPkarrHandler}. */
  handler: (request: Request, info?: PkarrRequestInfo) => Promise<Response>;
  /** The live signed packet of a key in z32, as `GET /pkarr/<z32>` returns it. */
  lookup: (z32Key: string) => Uint8Array | undefined;
}

/**
 * Creates the store of {@linkcode createPkarrHandler}, with a `lookup` that
 * reads it directly (the DNS face answers from it).
 *
 * @param options As for {@linkcode createPkarrHandler}.
 * @throws {RangeError} for a capacity or rate that is not positive.
 * @example
 * ```ts
 * const store = createPkarrStore();
 * Deno.serve({ hostname: "127.0.0.1", port: 8080 }, store.handler);
 * store.lookup("yryyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"); // undefined
 * ```
 */
export function createPkarrStore(options: PkarrStoreOptions = {}): PkarrStore {
  const { handler, lookup } = _createPkarrStore(options);
  return { handler, lookup };
}

/** The store of {@linkcode createPkarrStore} with its table and clocks, for a persistent copy. */
export interface _PkarrStoreParts extends PkarrStore {
  /** The records. */
  table: RecordTable;
  /** The monotonic clock (ms). */
  now: () => number;
  /** The wall clock (ms since the epoch). */
  wallClock: () => number;
}

/**
 * {@linkcode createPkarrStore}'s store, its table tracking changes when
 * `onStored` is given, which is called after each write that changed a record.
 */
export function _createPkarrStore(
  options: PkarrStoreOptions = {},
  onStored?: () => void,
): _PkarrStoreParts {
  const now = options.now ?? (() => performance.now());
  const wallClock = options.wallClock ?? (() => Date.now());
  const tokens = new BearerTokenSet(options.accessTokens);
  const isConnected = options.isConnected;
  const table = new RecordTable(
    {
      maxRecords: options.maxRecords,
      maxBytes: options.maxBytes,
      maxRecordsPerAddress: options.maxRecordsPerAddress,
      keyBurst: options.rates?.keyBurst,
      keyPerSecond: options.rates?.keyPerSecond,
    },
    isConnected ? (key) => isConnected(endpointIdFromZ32(key)) : undefined,
    onStored !== undefined,
  );
  const addressBurst = options.rates?.addressBurst ?? ADDRESS_WRITE_BURST;
  const addressPerSecond = options.rates?.addressPerSecond ?? ADDRESS_WRITES_PER_SECOND;
  const buckets = new AddressBuckets({ burst: addressBurst, perSecond: addressPerSecond });
  const refusals = new RefusalSummary(options.log, now);

  const put = async (
    key: string,
    endpointId: EndpointId,
    request: Request,
    info: PkarrRequestInfo | undefined,
  ): Promise<Response> => {
    if (tokens.required && !tokens.presentedBy(request)) {
      refusals.count("token");
      return text(
        401,
        "Cannot store record: this relay needs an access token to write (Authorization: Bearer TOKEN)",
        { "www-authenticate": "Bearer" },
      );
    }
    // Charged before the body is read: a flood costs no signature checks.
    const writer = addressGroup(info?.remoteAddr?.hostname ?? "");
    if (!buckets.take(writer, now())) {
      table.markWriter(writer);
      refusals.count("address-rate");
      return text(
        429,
        `Cannot store record: too many writes from this address (${addressBurst} at once, then ${addressPerSecond} per second); try again later`,
        { "retry-after": String(Math.ceil(1 / addressPerSecond)) },
      );
    }
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
    const at = now();
    const outcome = table.put(
      {
        key,
        body,
        timestampMicros: record.timestampMicros,
        expiresAt: at + _recordLifetimeMs(ttlSeconds),
        writer,
        flooding: buckets.isFlooding(writer, at),
      },
      at,
      wallClock(),
    );
    if (outcome.stored) {
      if (table.hasChanges) onStored?.();
      refusals.evicted(outcome.evicted);
      options.onPut?.(key, endpointId);
      return new Response(null, { status: 204 });
    }
    refusals.count(outcome.reason);
    return text(STATUS_OF[outcome.reason], outcome.message);
  };

  const get = async (
    key: string,
    endpointId: EndpointId,
    info: PkarrRequestInfo | undefined,
  ): Promise<Response> => {
    const body = table.get(key, now()) ??
      await fetchMissing(key, endpointId, info?.remoteAddr?.hostname ?? "");
    if (!body) return text(404, "No record for this key");
    return new Response(body.slice(), {
      status: 200,
      headers: { "content-type": PKARR_CONTENT_TYPE },
    });
  };

  // A record from elsewhere (the DHT) is checked as a PUT's would be, and kept
  // as one from its own writer, so a flood of lookups cannot evict records
  // their owners wrote.
  const fetchMissing = async (
    key: string,
    endpointId: EndpointId,
    address: string,
  ): Promise<Uint8Array | undefined> => {
    const body = await options.fetchMissing?.(key, endpointId, address);
    if (!body || body.length > MAX_SIGNED_PACKET_BODY) return undefined;
    let opened: ReturnType<typeof _openSignedPacket>;
    try {
      opened = _openSignedPacket(endpointId, body);
    } catch (error) {
      if (!(error instanceof SignedPacketError)) throw error;
      return undefined;
    }
    const at = now();
    const outcome = table.put(
      {
        key,
        body,
        timestampMicros: opened.record.timestampMicros,
        expiresAt: at + _recordLifetimeMs(opened.ttlSeconds),
        writer: FETCHED_WRITER,
        flooding: true,
      },
      at,
      wallClock(),
    );
    if (outcome.stored && table.hasChanges) onStored?.();
    return outcome.stored ? body : table.get(key, at) ?? body;
  };

  const handler = async (request: Request, info?: PkarrRequestInfo): Promise<Response> => {
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
    return request.method === "PUT"
      ? await put(key, endpointId, request, info)
      : await get(key, endpointId, info);
  };
  return { handler, lookup: (key) => table.get(key, now()), table, now, wallClock };
}

/** How long a record with smallest TTL `ttlSeconds` is kept, clamped to the bounds above (ms). */
export function _recordLifetimeMs(ttlSeconds: number | undefined): number {
  return Math.min(
    Math.max(ttlSeconds ?? 0, MIN_RECORD_LIFETIME_SECONDS),
    MAX_RECORD_LIFETIME_SECONDS,
  ) * 1000;
}

const STATUS_OF: Record<RecordRefusal, number> = {
  future: 400,
  stale: 409,
  "key-rate": 429,
  "address-full": 429,
  full: 429,
};

type RefusalKind = RecordRefusal | "token" | "address-rate";

/**
 * The writer records fetched from elsewhere count as: one writer, marked as
 * flooding, whose records are the first to go when the store is full.
 */
const FETCHED_WRITER = "fetched";

/** Refused writes, summed up in one line at most every {@linkcode REFUSAL_LOG_INTERVAL_MS}. */
class RefusalSummary {
  readonly #log: ((line: string) => void) | undefined;
  readonly #now: () => number;
  readonly #counts = new Map<RefusalKind, number>();
  #evicted = 0;
  #loggedAt = -Infinity;

  constructor(log: ((line: string) => void) | undefined, now: () => number) {
    this.#log = log;
    this.#now = now;
  }

  count(kind: RefusalKind): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    this.#flush();
  }

  evicted(records: number): void {
    if (records === 0) return;
    this.#evicted += records;
    this.#flush();
  }

  #flush(): void {
    const at = this.#now();
    if (!this.#log || at - this.#loggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    const refused = [...this.#counts].map(([kind, n]) => `${kind} ${n}`).join(", ") || "none";
    this.#log(
      `pkarr: since the last report, writes refused: ${refused}; records evicted for room: ${this.#evicted}`,
    );
    this.#counts.clear();
    this.#evicted = 0;
    this.#loggedAt = at;
  }
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  // One line, short: messages can quote a key or a timestamp, nothing longer.
  return new Response(message.replace(/\s+/g, " ").slice(0, 300), {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  });
}
