/**
 * Parses HTTP/1.1 responses from the bytes of one keep-alive connection
 * (sans-IO: bytes come in, whole responses come out), for the relay load
 * generator's own client. Bodies framed by `Content-Length` or chunked; a
 * 204, a 304 and a 1xx have none. Enough for the relay's answers, nothing more.
 * @module
 */

/** One whole response. */
export interface Http1Response {
  /** The status code. */
  status: number;
  /** The body (empty when there is none). */
  body: Uint8Array;
  /** Whether the server said it closes the connection after this response. */
  closes: boolean;
}

/** Longest response head accepted; the relay's are a few hundred bytes. */
export const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;
/** Largest response body accepted; the relay's largest (`/metrics`) is a few KiB. */
export const MAX_RESPONSE_BODY_BYTES = 1 << 20;

const CRLF_CRLF = [13, 10, 13, 10];
const decoder = new TextDecoder();

/**
 * Feeds bytes in as they arrive; takes whole responses out.
 * @example
 * ```ts
 * const parser = new Http1ResponseParser();
 * parser.push(new TextEncoder().encode("HTTP/1.1 204 No Content\r\n\r\n"));
 * parser.take(); // [{ status: 204, body: Uint8Array(0), closes: false }]
 * ```
 */
export class Http1ResponseParser {
  #buffer: Uint8Array = new Uint8Array(0);
  #ready: Http1Response[] = [];

  /**
   * Adds bytes read from the connection.
   * @throws {Error} one line naming what is malformed or over a bound.
   */
  push(bytes: Uint8Array): void {
    const joined = new Uint8Array(this.#buffer.length + bytes.length);
    joined.set(this.#buffer);
    joined.set(bytes, this.#buffer.length);
    this.#buffer = joined;
    for (;;) {
      const parsed = this.#parseOne();
      if (!parsed) break;
      this.#ready.push(parsed.response);
      this.#buffer = this.#buffer.subarray(parsed.length);
    }
  }

  /** The responses completed so far, oldest first; they are handed over once. */
  take(): Http1Response[] {
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }

  #parseOne(): { response: Http1Response; length: number } | undefined {
    const buffer = this.#buffer;
    const headEnd = indexOf(buffer, CRLF_CRLF);
    if (headEnd < 0) {
      if (buffer.length > MAX_RESPONSE_HEAD_BYTES) {
        throw new Error(`response head exceeds ${MAX_RESPONSE_HEAD_BYTES} bytes`);
      }
      return undefined;
    }
    const lines = decoder.decode(buffer.subarray(0, headEnd)).split("\r\n");
    const statusMatch = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!statusMatch) throw new Error(`not an HTTP/1.x status line: ${lines[0].slice(0, 60)}`);
    const status = Number(statusMatch[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`malformed header line: ${line.slice(0, 60)}`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const closes = headers.get("connection")?.toLowerCase() === "close";
    const bodyStart = headEnd + 4;
    if (status === 204 || status === 304 || status < 200) {
      return { response: { status, body: new Uint8Array(0), closes }, length: bodyStart };
    }
    if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      return parseChunked(buffer, bodyStart, status, closes);
    }
    const declared = headers.get("content-length");
    if (declared === undefined) {
      // Read-until-close bodies never come from the relay; refusing keeps framing exact.
      throw new Error(`response ${status} has neither Content-Length nor chunked framing`);
    }
    const length = Number(declared);
    if (!Number.isInteger(length) || length < 0 || length > MAX_RESPONSE_BODY_BYTES) {
      throw new Error(`bad Content-Length ${declared.slice(0, 20)}`);
    }
    if (buffer.length < bodyStart + length) return undefined;
    const body = buffer.slice(bodyStart, bodyStart + length);
    return { response: { status, body, closes }, length: bodyStart + length };
  }
}

function parseChunked(
  buffer: Uint8Array,
  start: number,
  status: number,
  closes: boolean,
): { response: Http1Response; length: number } | undefined {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let at = start;
  for (;;) {
    const lineEnd = indexOf(buffer, [13, 10], at);
    if (lineEnd < 0) return undefined;
    const sizeText = decoder.decode(buffer.subarray(at, lineEnd)).split(";")[0].trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) {
      throw new Error(`bad chunk size ${sizeText.slice(0, 20)}`);
    }
    const size = parseInt(sizeText, 16);
    total += size;
    if (total > MAX_RESPONSE_BODY_BYTES) {
      throw new Error(`response body exceeds ${MAX_RESPONSE_BODY_BYTES} bytes`);
    }
    const dataStart = lineEnd + 2;
    if (size === 0) {
      // No trailers from the relay: the last chunk is followed by one empty line.
      if (buffer.length < dataStart + 2) return undefined;
      if (buffer[dataStart] !== 13 || buffer[dataStart + 1] !== 10) {
        throw new Error("chunk trailers are not supported");
      }
      const body = new Uint8Array(total);
      let offset = 0;
      for (const chunk of chunks) {
        body.set(chunk, offset);
        offset += chunk.length;
      }
      return { response: { status, body, closes }, length: dataStart + 2 };
    }
    if (buffer.length < dataStart + size + 2) return undefined;
    chunks.push(buffer.slice(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}

function indexOf(haystack: Uint8Array, needle: readonly number[], from = 0): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
