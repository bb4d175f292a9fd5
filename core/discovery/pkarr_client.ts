/**
 * The client side of a pkarr relay: publish a signed record with `PUT`, fetch
 * one with `GET` and check it against the key asked for, as iroh's
 * `PkarrRelayClient` does.
 * @module
 */
import type { EndpointId, SecretKey } from "../identity/mod.ts";
import { _readCappedBody } from "./_capped_body.ts";
import {
  MAX_SIGNED_PACKET_BODY,
  type PkarrRecord,
  SignedPacketError,
  signRecord,
  verifySignedPacket,
} from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

/** Where and how to reach a pkarr relay. */
export interface PkarrRelayOptions {
  /** The relay's pkarr URL, e.g. `https://dns.iroh.link/pkarr`; the key is appended as a path segment. */
  relayUrl: string | URL;
  /** Sends a request (default: the global `fetch`); a store's handler works as one in tests. */
  fetch?: (request: Request) => Promise<Response>;
  /** Cancels the request. */
  signal?: AbortSignal;
  /**
   * Gives up on a relay that does not answer after this long (default
   * {@linkcode PKARR_REQUEST_TIMEOUT_MS}): a network that drops packets would
   * otherwise hold the request for the kernel's minutes of retries.
   */
  timeoutMs?: number;
  /**
   * Sent as `Authorization: Bearer <token>`: for a pkarr relay that is also the
   * caller's own relay and wants its access token. The caller decides where a
   * token may go; this module sends it wherever `relayUrl` points.
   */
  accessToken?: string;
}

/** How long a publish or lookup waits for the relay's answer by default. */
export const PKARR_REQUEST_TIMEOUT_MS = 10_000;

/** A pkarr relay could not be reached, refused a record, or answered with one that does not check. */
export class PkarrRelayError extends Error {
  /** Always "PkarrRelayError". */
  override name = "PkarrRelayError";
  /** The URL asked. */
  readonly url: string;
  /** The HTTP status, when the relay answered. */
  readonly status: number | undefined;

  /** Creates the error; `message` already names the URL. */
  constructor(message: string, url: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.url = url;
    this.status = status;
  }
}

/** Longest error text read from a relay: enough for one line of reason. */
const MAX_REASON_BYTES = 1024;

/**
 * Signs `record` with `secretKey` and PUTs it to the relay.
 *
 * @param secretKey The endpoint's key.
 * @param record What to publish; its timestamp must be newer than the last published.
 * @param options The relay, and optionally `fetch` and `signal`.
 * @throws {PkarrRelayError} "Cannot publish to <url>: <why>" when the request fails or the
 *   relay answers other than 2xx (`status` then holds the code; 409 for a stale timestamp).
 * @throws {TypeError | RangeError} from {@linkcode signRecord} for a record that cannot be signed.
 * @example
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * await publishRecord(SecretKey.generate(), {
 *   relayUrls: ["https://relay.example/"],
 *   addrs: [],
 *   timestampMicros: BigInt(Date.now()) * 1000n,
 * }, { relayUrl: "https://dns.example/pkarr" });
 * ```
 */
export async function publishRecord(
  secretKey: SecretKey,
  record: PkarrRecord,
  options: PkarrRelayOptions,
): Promise<void> {
  const body = signRecord(secretKey, record);
  const url = recordUrl(options.relayUrl, secretKey.endpointId);
  const fail = (why: string, status?: number, cause?: unknown) =>
    new PkarrRelayError(`Cannot publish to ${url}: ${why}`, url, status, { cause });
  const response = await send(
    new Request(url, {
      method: "PUT",
      body,
      headers: {
        "content-type": "application/x-pkarr-signed-packet",
        ...authorization(options),
      },
    }),
    options,
    fail,
  );
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  throw fail(`HTTP ${response.status}${await reasonOf(response)}`, response.status);
}

/**
 * GETs the record of `endpointId` from the relay and checks that key signed it.
 *
 * @param endpointId The endpoint asked about.
 * @param options The relay, and optionally `fetch` and `signal`.
 * @returns the record, or `undefined` when the relay has none (404).
 * @throws {PkarrRelayError} "Cannot resolve <url>: <why>" when the request fails, the relay
 *   answers other than 200 or 404, or its answer is too large, malformed or signed by
 *   another key.
 * @example
 * ```ts
 * import { EndpointId } from "../identity/mod.ts";
 * const record = await resolveRecord(EndpointId.parse("<52 base32 characters>"), {
 *   relayUrl: "https://dns.example/pkarr",
 * });
 * console.log(record?.relayUrls);
 * ```
 */
export async function resolveRecord(
  endpointId: EndpointId,
  options: PkarrRelayOptions,
): Promise<PkarrRecord | undefined> {
  const url = recordUrl(options.relayUrl, endpointId);
  const fail = (why: string, status?: number, cause?: unknown) =>
    new PkarrRelayError(`Cannot resolve ${url}: ${why}`, url, status, { cause });
  const response = await send(
    new Request(url, { headers: authorization(options) }),
    options,
    fail,
  );
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status !== 200) {
    throw fail(`HTTP ${response.status}${await reasonOf(response)}`, response.status);
  }
  let body: Uint8Array | undefined;
  try {
    body = await _readCappedBody(response.body, MAX_SIGNED_PACKET_BODY);
  } catch (error) {
    throw rethrowAbort(options) ?? fail((error as Error).message, 200, error);
  }
  if (!body) throw fail(`answer exceeds the limit of ${MAX_SIGNED_PACKET_BODY} bytes`, 200);
  try {
    return verifySignedPacket(endpointId, body);
  } catch (error) {
    if (!(error instanceof SignedPacketError)) throw error;
    throw fail(`the answer is not a record of ${endpointId}: ${error.message}`, 200, error);
  }
}

/** The `Authorization` header of `options.accessToken`, if any. */
function authorization(options: PkarrRelayOptions): Record<string, string> {
  return options.accessToken ? { authorization: `Bearer ${options.accessToken}` } : {};
}

/** `<relayUrl>/<z32>`, whether or not the relay URL ends in a slash. */
function recordUrl(relayUrl: string | URL, endpointId: EndpointId): string {
  const url = new URL(relayUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${endpointIdToZ32(endpointId)}`;
  return url.href;
}

async function send(
  request: Request,
  options: PkarrRelayOptions,
  fail: (why: string, status?: number, cause?: unknown) => PkarrRelayError,
): Promise<Response> {
  const timeoutMs = options.timeoutMs ?? PKARR_REQUEST_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    return await (options.fetch ?? fetch)(new Request(request, { signal }));
  } catch (error) {
    const asked = rethrowAbort(options);
    if (asked !== undefined) throw asked;
    if (timeout.aborted) {
      throw fail(`no answer within ${timeoutMs / 1000} s`, undefined, error);
    }
    throw fail(fetchFailureReason(error), undefined, error);
  }
}

/**
 * What went wrong in a failed fetch, in the words of its cause: Deno says only
 * "fetch failed" and keeps the reason (a DNS failure, a refused connection, a
 * certificate) in `cause`, behind the request's URL that callers name anyway.
 */
function fetchFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  if (!(cause instanceof Error) || cause.message === "") return message;
  return cause.message
    .replace(/^error sending request for url \([^)]*\): /, "")
    .replace(/^client error \((\w+)\): /, "");
}

/** The abort reason when `signal` ended the request: the caller asked for it, so it is not wrapped. */
function rethrowAbort(options: PkarrRelayOptions): unknown {
  return options.signal?.aborted ? options.signal.reason : undefined;
}

/** `: <first line of the body>`, or nothing when the body is empty or unreadable. */
async function reasonOf(response: Response): Promise<string> {
  try {
    const bytes = await _readCappedBody(response.body, MAX_REASON_BYTES);
    const text = new TextDecoder().decode(bytes ?? new Uint8Array(0));
    // A relay's words end up in our messages: one line, no control characters.
    const line = [...text.split("\n")[0]].filter((c) => c >= " " && c !== "\x7f").join("").trim();
    return line ? `: ${line.slice(0, 200)}` : "";
  } catch {
    return "";
  }
}
