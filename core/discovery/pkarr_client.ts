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
}

/** Options of {@linkcode publishRecord}. */
export interface PublishRecordOptions extends PkarrRelayOptions {
  /**
   * Sent as `Authorization: Bearer <token>`: a `tunnel relay` run with
   * `--access-token` takes writes only with one (reads stay open).
   */
  accessToken?: string;
}

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
 * @param options The relay, and optionally `fetch`, `signal` and the relay's `accessToken`.
 * @throws {PkarrRelayError} "Cannot publish to <url>: <why>" when the request fails or the
 *   relay answers other than 2xx (`status` then holds the code; 409 for a stale timestamp,
 *   401 for a missing or wrong access token, 429 when over the relay's rate or room).
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
  options: PublishRecordOptions,
): Promise<void> {
  const body = signRecord(secretKey, record);
  const headers: Record<string, string> = { "content-type": "application/x-pkarr-signed-packet" };
  if (options.accessToken !== undefined) headers.authorization = `Bearer ${options.accessToken}`;
  const url = recordUrl(options.relayUrl, secretKey.endpointId);
  const shown = withoutToken(url);
  const fail = (why: string, status?: number, cause?: unknown) =>
    new PkarrRelayError(`Cannot publish to ${shown}: ${why}`, shown, status, { cause });
  const response = await send(
    new Request(url, {
      method: "PUT",
      body,
      headers,
      signal: options.signal,
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
  const shown = withoutToken(url);
  const fail = (why: string, status?: number, cause?: unknown) =>
    new PkarrRelayError(`Cannot resolve ${shown}: ${why}`, shown, status, { cause });
  const response = await send(new Request(url, { signal: options.signal }), options, fail);
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

/**
 * `url` with a `token` query parameter's value hidden: a relay URL may carry
 * its access token (`.../pkarr?token=...`, as `/relay` takes it), and errors
 * end up in logs.
 */
function withoutToken(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has("token")) return url;
  parsed.searchParams.set("token", "REDACTED");
  return parsed.href;
}

/** `<relayUrl>/<z32>` (its query kept), whether or not the relay URL ends in a slash. */
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
  try {
    return await (options.fetch ?? fetch)(request);
  } catch (error) {
    throw rethrowAbort(options) ?? fail((error as Error).message, undefined, error);
  }
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
