/**
 * Whether a proxy is Tor's SocksPort, told offline: Tor answers an HTTP request
 * on its SOCKS port with `HTTP/1.0 501 Tor is not an HTTP Proxy` (Tor 0.4.9
 * does, with or without a network), and it must then accept a SOCKS5 greeting.
 * Nothing leaves the machine but the two connections to the proxy.
 * @module
 */
import { hexByte } from "./errors.ts";
import type { HostPort } from "./handshake.ts";

/** How long {@linkcode checkTorProxy} waits for each of its two answers unless told. */
export const DEFAULT_TOR_CHECK_TIMEOUT_MS = 10_000;
/** The status line Tor's SocksPort answers an HTTP request with. */
export const TOR_HTTP_ANSWER = "HTTP/1.0 501 Tor is not an HTTP Proxy";
/** Bytes of the proxy's answer read at most: Tor's status line and a little more. */
const MAX_ANSWER_BYTES = 512;

/** The outcome of {@linkcode checkTorProxy}. */
export type TorProxyCheck = { ok: true } | {
  ok: false;
  /** One line: what the proxy did, e.g. "not Tor: the proxy answered 'HTTP/1.1 200 OK' ...". */
  error: string;
};

/** Options of {@linkcode checkTorProxy}. */
export interface CheckTorProxyOptions {
  /** Bound on each of the two exchanges. Default {@linkcode DEFAULT_TOR_CHECK_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/**
 * Asks the proxy an HTTP request (Tor answers {@linkcode TOR_HTTP_ANSWER}),
 * then offers it a SOCKS5 greeting without authentication (Tor accepts it).
 * Never throws for what the proxy does; each failure is one line in `error`.
 * @throws {RangeError} for a timeout that is not a positive number of milliseconds.
 * @example
 * ```ts ignore
 * const check = await checkTorProxy({ hostname: "127.0.0.1", port: 9050 });
 * if (!check.ok) console.error(check.error);
 * ```
 */
export async function checkTorProxy(
  proxy: HostPort,
  options: CheckTorProxyOptions = {},
): Promise<TorProxyCheck> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TOR_CHECK_TIMEOUT_MS;
  if (!(timeoutMs > 0 && timeoutMs < 2 ** 31)) {
    throw new RangeError(`Invalid Tor check timeout ${timeoutMs}: use 1 ms to about 24 days`);
  }
  const http = await exchange(
    proxy,
    new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"),
    timeoutMs,
    (received) => received.includes(0x0a),
  );
  if (!http.ok) return http;
  const firstLine = latin1(http.bytes).split(/\r?\n/)[0];
  if (firstLine !== TOR_HTTP_ANSWER) {
    const what = http.bytes.length === 0
      ? http.closed
        ? "closed the connection without answering an HTTP request"
        : `answered nothing to an HTTP request within ${timeoutMs / 1000} s`
      : `answered an HTTP request with ${describeBytes(http.bytes)}`;
    return { ok: false, error: `not Tor: the proxy ${what} (Tor answers '${TOR_HTTP_ANSWER}')` };
  }
  const socks = await exchange(proxy, Uint8Array.of(5, 1, 0), timeoutMs, (r) => r.length >= 2);
  if (!socks.ok) return socks;
  const [version, method] = socks.bytes;
  if (socks.bytes.length < 2 || version !== 5 || method !== 0) {
    const answer = socks.bytes.length === 0
      ? socks.closed ? "closed the connection" : `answered nothing within ${timeoutMs / 1000} s`
      : `answered ${describeBytes(socks.bytes)}`;
    return {
      ok: false,
      error: `not Tor: the proxy looks like Tor over HTTP but ${answer} to a SOCKS5 greeting ` +
        `(Tor answers 0x05 0x00)`,
    };
  }
  return { ok: true };
}

type Exchanged = { ok: true; bytes: Uint8Array; closed: boolean } | { ok: false; error: string };

/**
 * Sends `request` on a fresh connection and reads until `enough`, the end, the
 * deadline or {@linkcode MAX_ANSWER_BYTES}. Only failing to connect is an error.
 */
async function exchange(
  proxy: HostPort,
  request: Uint8Array,
  timeoutMs: number,
  enough: (received: Uint8Array) => boolean,
): Promise<Exchanged> {
  const hostname = proxy.hostname.replace(/^\[(.*)\]$/, "$1");
  const where = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${proxy.port}`;
  const stop = AbortSignal.timeout(timeoutMs);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname, port: proxy.port, signal: stop });
  } catch (error) {
    return {
      ok: false,
      error: stop.aborted
        ? `cannot reach the proxy ${where}: no TCP connection within ${timeoutMs / 1000} s`
        : `cannot reach the proxy ${where} (${oneLine(error)}); is it running and listening there?`,
    };
  }
  const close = () => {
    try {
      conn.close();
    } catch { /* closed */ }
  };
  stop.addEventListener("abort", close, { once: true });
  if (stop.aborted) close();
  const buffer = new Uint8Array(MAX_ANSWER_BYTES);
  let filled = 0;
  let closed = false;
  try {
    for (let offset = 0; offset < request.length;) {
      offset += await conn.write(request.subarray(offset));
    }
    while (filled < buffer.length && !enough(buffer.subarray(0, filled))) {
      const n = await conn.read(buffer.subarray(filled));
      if (n === null) {
        closed = true;
        break;
      }
      filled += n;
    }
  } catch {
    // Reset by the proxy, or closed at the deadline: judged by what came before.
    closed = !stop.aborted;
  } finally {
    stop.removeEventListener("abort", close);
    close();
  }
  return { ok: true, bytes: buffer.slice(0, filled), closed };
}

/** An answer for one line of error: its first line as text, or its first bytes in hex. */
function describeBytes(bytes: Uint8Array): string {
  const line = latin1(bytes).split(/\r?\n/)[0];
  if (/^[\x20-\x7e]+$/.test(line)) return `'${line.slice(0, 80)}'`;
  return [...bytes.subarray(0, 8)].map(hexByte).join(" ") + (bytes.length > 8 ? " ..." : "");
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function oneLine(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/\s+/g, " ").slice(0, 200);
}
