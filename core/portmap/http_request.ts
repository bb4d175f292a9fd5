/**
 * A minimal HTTP/1.1 client for the gateway's UPnP server: one request per connection,
 * answer size and total time bounded (a slow or endless answer is cut off), no redirects,
 * no proxies, no TLS. Plain `fetch` would follow proxy variables and has no size bound.
 * @module
 */
import { PortMapError } from "./errors.ts";

/** A request to the gateway. */
export interface HttpRequest {
  /** GET for the description, POST for SOAP. */
  method: "GET" | "POST";
  /** Where to send it (http:// only). */
  url: URL;
  /** Extra header lines. */
  headers?: Record<string, string>;
  /** The request body (SOAP envelope). */
  body?: string;
  /** Largest answer (head and body) accepted, bytes. */
  maxBytes: number;
  /** Aborts connecting, sending and reading. */
  signal: AbortSignal;
}

/** Status and body of an answer. */
export interface HttpAnswer {
  /** The HTTP status code. */
  status: number;
  /** The body, de-chunked, as text. */
  body: string;
}

/** How requests reach the gateway; tests put fakes behind it. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpAnswer>;

const MAX_HEAD = 8 * 1024;

/** Parses a complete `Connection: close` answer (head and body, chunked or not). */
export function parseHttpAnswer(bytes: Uint8Array): HttpAnswer {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0 || end > MAX_HEAD) throw new PortMapError("HTTP answer without a complete head");
  const [statusLine, ...headerLines] = text.slice(0, end).split("\r\n");
  const status = /^HTTP\/1\.[01] ([1-5][0-9]{2})\b/.exec(statusLine);
  if (!status) {
    throw new PortMapError(`HTTP answer status line ${JSON.stringify(statusLine.slice(0, 40))}`);
  }
  const headers = new Map(headerLines.map((line) => {
    const colon = line.indexOf(":");
    return [line.slice(0, Math.max(colon, 0)).trim().toLowerCase(), line.slice(colon + 1).trim()];
  }));
  let body = text.slice(end + 4);
  if ((headers.get("transfer-encoding") ?? "").toLowerCase() === "chunked") body = unchunk(body);
  else if (headers.has("content-length")) {
    const length = headers.get("content-length")!;
    if (!/^[0-9]{1,9}$/.test(length)) {
      throw new PortMapError("HTTP answer Content-Length is not a number");
    }
    body = body.slice(0, Number(length));
  }
  return { status: Number(status[1]), body };
}

function unchunk(text: string): string {
  let out = "";
  let at = 0;
  while (at < text.length) {
    const lineEnd = text.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const field = text.slice(at, lineEnd).split(";")[0].trim();
    // Hex digits only: parseInt would take "-5" and walk backwards forever.
    if (!/^[0-9A-Fa-f]{1,7}$/.test(field)) {
      throw new PortMapError("HTTP answer has a bad chunk size");
    }
    const size = parseInt(field, 16);
    if (size === 0) return out;
    out += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
  throw new PortMapError("HTTP answer ends inside a chunk");
}

/** The real transport: TCP to the URL's host:port, `Connection: close`, bounded read. */
export const tcpHttpTransport: HttpTransport = async (request): Promise<HttpAnswer> => {
  const { url, signal } = request;
  if (url.protocol !== "http:") {
    throw new PortMapError(`not an http:// URL: ${url.href.slice(0, 80)}`);
  }
  signal.throwIfAborted();
  const port = url.port ? Number(url.port) : 80;
  let conn: Deno.TcpConn | undefined;
  const abort = () => {
    try {
      conn?.close();
    } catch { /* closed already */ }
  };
  signal.addEventListener("abort", abort, { once: true });
  try {
    // A connect to a silent address can take minutes: the deadline must not wait for it.
    const connecting = Deno.connect({ hostname: url.hostname, port });
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener("abort", () => reject(new PortMapError("HTTP request timed out")), {
        once: true,
      });
    });
    try {
      conn = await Promise.race([connecting, aborted]);
    } catch (error) {
      connecting.then((late) => late.close()).catch(() => {});
      throw error;
    }
    if (signal.aborted) throw new PortMapError("HTTP request timed out");
    const body = new TextEncoder().encode(request.body ?? "");
    const head = [
      `${request.method} ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      "Connection: close",
      `Content-Length: ${body.length}`,
      ...Object.entries(request.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      "",
      "",
    ].join("\r\n");
    const out = new Uint8Array([...new TextEncoder().encode(head), ...body]);
    for (let sent = 0; sent < out.length;) sent += await conn.write(out.subarray(sent));
    const chunks: Uint8Array[] = [];
    let total = 0;
    const buffer = new Uint8Array(4096);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      total += n;
      if (total > request.maxBytes) {
        throw new PortMapError(`HTTP answer from ${url.host} exceeds ${request.maxBytes} bytes`);
      }
      chunks.push(buffer.slice(0, n));
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return parseHttpAnswer(all);
  } catch (error) {
    if (error instanceof PortMapError) throw error;
    if (signal.aborted) throw new PortMapError(`HTTP request to ${url.host} timed out`);
    throw new PortMapError(
      `HTTP request to ${url.host} failed: ${(error as Error).message.split("\n")[0]}`,
    );
  } finally {
    signal.removeEventListener("abort", abort);
    abort();
  }
};
