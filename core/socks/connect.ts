/**
 * A TCP connection to a destination through a SOCKS5 proxy, bounded in time as
 * a whole: reaching the proxy, its answers, and its CONNECT (which for a
 * `.onion` destination builds circuits and may take long or never end).
 * @module
 */
import { Socks5Error } from "./errors.ts";
import {
  type HostPort,
  MAX_SOCKS5_REPLY_BYTES,
  Socks5ClientHandshake,
  type Socks5Credentials,
} from "./handshake.ts";

/** How long {@linkcode connectThroughSocks5} waits in all unless told: a slow onion included. */
export const DEFAULT_SOCKS5_TIMEOUT_MS = 60_000;

/** Options of {@linkcode connectThroughSocks5}. */
export interface ConnectThroughSocks5Options {
  /** Gives up once aborted (rejecting with the signal's reason), closing what it opened. */
  signal?: AbortSignal;
  /** The whole connect's deadline. Default {@linkcode DEFAULT_SOCKS5_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** RFC 1929 username (with `password`); without both, no authentication is offered. */
  username?: string;
  /** RFC 1929 password (with `username`). */
  password?: string;
}

/**
 * Connects to `target` through the SOCKS5 proxy at `proxy`. The target's name
 * goes to the proxy unresolved (socks5h); IP literals go as addresses. The
 * connection returned carries the destination's stream from its first byte.
 * @throws {Socks5Error} whose one-line message names the proxy, the target and
 * what went wrong (`kind` says which step); the signal's reason when aborted.
 * @throws {TypeError} for a target, port or credentials SOCKS5 cannot carry;
 * {@linkcode RangeError} for a timeout that is not a positive number of milliseconds.
 * @example
 * ```ts ignore
 * const conn = await connectThroughSocks5(
 *   { hostname: "127.0.0.1", port: 9050 },
 *   { hostname: "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion", port: 80 },
 *   { timeoutMs: 30_000 },
 * );
 * ```
 */
export async function connectThroughSocks5(
  proxy: HostPort,
  target: HostPort,
  options: ConnectThroughSocks5Options = {},
): Promise<Deno.TcpConn> {
  options.signal?.throwIfAborted();
  if ((options.username === undefined) !== (options.password === undefined)) {
    throw new TypeError("SOCKS5 credentials need both a username and a password");
  }
  const credentials: Socks5Credentials | undefined = options.username !== undefined
    ? { username: options.username, password: options.password! }
    : undefined;
  const handshake = new Socks5ClientHandshake(target, credentials);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SOCKS5_TIMEOUT_MS;
  if (!(timeoutMs > 0 && timeoutMs < 2 ** 31)) {
    throw new RangeError(`Invalid SOCKS5 timeout ${timeoutMs}: use 1 ms to about 24 days`);
  }
  const where = `${showHost(target)} through the SOCKS5 proxy ${showHost(proxy)}`;
  const fail = (error: Socks5Error) =>
    new Socks5Error(error.kind, `Cannot connect to ${where}: ${error.message}`, error.replyCode);

  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(TIMED_OUT), timeoutMs);
  const onAbort = () => stop.abort(options.signal!.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let conn: Deno.TcpConn | undefined;
  /** What the proxy was last asked, for a deadline's words. */
  let waitingFor: "proxy" | "connect" = "proxy";
  const closeOnStop = () => {
    try {
      conn?.close();
    } catch { /* closed */ }
  };
  stop.signal.addEventListener("abort", closeOnStop, { once: true });
  try {
    try {
      conn = await Deno.connect({
        hostname: proxy.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: proxy.port,
        signal: stop.signal,
      });
    } catch (error) {
      if (stop.signal.aborted) throw error;
      throw new Socks5Error(
        "unreachable",
        `cannot reach the proxy (${oneLine(error)}); is it running and listening there?`,
      );
    }
    await writeAll(conn, handshake.start());
    const buffer = new Uint8Array(MAX_SOCKS5_REPLY_BYTES);
    for (;;) {
      const n = await conn.read(buffer.subarray(0, handshake.wanted));
      if (n === null) {
        throw new Socks5Error(
          "protocol",
          waitingFor === "connect"
            ? "the proxy closed the connection before answering the CONNECT"
            : "the proxy closed the connection during the SOCKS5 handshake",
        );
      }
      const step = handshake.receive(buffer.subarray(0, n));
      if (step.kind === "connected") break;
      if (step.kind === "write") {
        await writeAll(conn, step.bytes);
        if (handshake.connecting) waitingFor = "connect";
      }
    }
    stop.signal.removeEventListener("abort", closeOnStop);
    return conn;
  } catch (error) {
    closeOnStop();
    if (stop.signal.aborted && stop.signal.reason !== TIMED_OUT) throw stop.signal.reason;
    if (stop.signal.aborted) {
      const seconds = `${timeoutMs / 1000} s`;
      throw fail(
        new Socks5Error(
          "timeout",
          waitingFor === "connect"
            ? `the proxy did not connect within ${seconds} (the destination is slow, down, or ` +
              `a .onion service not reachable now)`
            : conn === undefined
            ? `the proxy did not accept the TCP connection within ${seconds}`
            : `the proxy did not answer the SOCKS5 handshake within ${seconds}; is it a SOCKS5 ` +
              `proxy?`,
        ),
      );
    }
    if (error instanceof Socks5Error) throw fail(error);
    if (error instanceof TypeError || error instanceof RangeError) throw error;
    throw fail(
      new Socks5Error("protocol", `the connection to the proxy failed (${oneLine(error)})`),
    );
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** The deadline's own abort reason, told apart from the caller's. */
const TIMED_OUT = Symbol("timed out");

/** `host:port`, IPv6 in brackets. */
function showHost({ hostname, port }: HostPort): string {
  return hostname.includes(":") && !hostname.startsWith("[")
    ? `[${hostname}]:${port}`
    : `${hostname}:${port}`;
}

function oneLine(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/\s+/g, " ").slice(0, 200);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length;) offset += await conn.write(data.subarray(offset));
}
