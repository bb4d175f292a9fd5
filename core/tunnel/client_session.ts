/**
 * The client's side of a session: authenticate, ask for a source, then forward
 * a local TCP listener or UDP socket through the connection.
 * @module
 */
import {
  CloseCode,
  deadline,
  type PathInfo,
  type PathOptions,
  type PeerConnection,
} from "../transport/mod.ts";
import { type ClientCredential, exchangeCredential } from "./client_auth.ts";
import { SessionPaths } from "./session_paths.ts";
import { SessionStats } from "./session_stats.ts";
import { FramedStream } from "./framed_stream.ts";
import { formatBytes, type TunnelLog } from "./log.ts";
import { AuthStatus, FrameDecoder, ProtocolError } from "./messages.ts";
import { RepeatedLines } from "../log/mod.ts";
import { formatHostPort, formatSource, type Source } from "./source.ts";
import { pipeTcpToStripes } from "./tcp_pipe.ts";
import { MAX_STRIPES } from "./segments.ts";
import { StripeSet } from "./stripe_set.ts";
import type { SessionSupplier } from "./session_supplier.ts";
import { relayLocalUdp } from "./udp_client_relay.ts";

/** How long the client waits for each of the server's answers. */
const ANSWER_TIMEOUT_MS = 10_000;
/**
 * How long a local connection waits for the server to say whether it reached
 * the source. The server gives up on each source address after 5 s; a source
 * with several addresses takes longer.
 */
const TCP_RESULT_TIMEOUT_MS = 20_000;
/** How long opening a stream may wait for the server's stream credit. */
const OPEN_STREAM_TIMEOUT_MS = 10_000;

/** Which step the server refused, for callers that add advice of their own. */
export type RefusalKind = "auth" | "full" | "source" | "closed";

/** The server refused the client; `message` is the server's reason. */
export class SessionRefusedError extends Error {
  /** Always "SessionRefusedError". */
  override name = "SessionRefusedError";
  /** Which step was refused. */
  readonly kind: RefusalKind;
  /** The server's reason as it gave it (the message says it with what was refused). */
  readonly reason: string;
  /** The request or source refused, as sent (kind "source"). */
  readonly request?: string;

  /**
   * Builds the error.
   * @param kind which step was refused
   * @param message the reason, for users
   * @param details the server's own reason (default: `message`) and the request refused
   */
  constructor(
    kind: RefusalKind,
    message: string,
    details: { reason?: string; request?: string } = {},
  ) {
    super(message);
    this.kind = kind;
    this.reason = details.reason ?? message;
    this.request = details.request;
  }
}

/** An authenticated session whose source the server accepted. */
export interface ClientSession {
  /** The session's connection, over every path it has (see {@linkcode ClientSession.paths}). */
  readonly conn: PeerConnection;
  /** The session's paths: the first one, and direct ones that joined later. */
  readonly paths: SessionPaths;
  /** Live counters: bytes each way, open connections and flows. */
  readonly stats: SessionStats;
  /** What the server accepted: a source to forward, or another kind of request (`ip://…`). */
  readonly source: Source | string;
  /** The control stream (carries oversized UDP packets). */
  readonly control: FramedStream;
}

/** How the session's first connection reaches the server, and who hears of path changes. */
export interface ClientSessionOptions {
  /** The first connection's path. Default: direct, labelled with its remote address. */
  path?: PathOptions;
  /** Told each time new traffic moves to another path. */
  onPathChange?(path: PathInfo): void;
}

/**
 * Authenticates with `credential` (bearer bytes, or a client key's proof),
 * requests `source`, and opens the session's path stream (probes, and
 * hole-punching signaling).
 * @throws {SessionRefusedError} when the server refuses either.
 */
export async function openClientSession(
  conn: PeerConnection,
  credential: ClientCredential,
  source: Source | string,
  options: ClientSessionOptions = {},
): Promise<ClientSession> {
  const auth = new FramedStream(await conn.openStream());
  const authAnswer = await exchangeCredential(auth, credential, () => answer(auth, conn));
  if (authAnswer?.type !== "auth-response") throw await refusal(conn, "no authentication answer");
  if (authAnswer.status !== AuthStatus.Ok) {
    const prefix = authAnswer.status === AuthStatus.ServerFull
      ? "server refused the session"
      : "server refused authentication";
    throw new SessionRefusedError(
      authAnswer.status === AuthStatus.ServerFull ? "full" : "auth",
      `${prefix}: ${authAnswer.reason}`,
      { reason: authAnswer.reason },
    );
  }

  const control = new FramedStream(await conn.openStream());
  const request = typeof source === "string" ? source : formatSource(source);
  await control.write({ type: "source-request", source: request });
  const sourceAnswer = await answer(control, conn);
  if (sourceAnswer?.type !== "source-response") throw await refusal(conn, "no source answer");
  if (!sourceAnswer.accepted) {
    conn.close({ code: CloseCode.Done, reason: "source refused" });
    throw new SessionRefusedError(
      "source",
      `server refused ${
        typeof source === "string" ? "request" : "source"
      } ${request}: ${sourceAnswer.reason}`,
      { reason: sourceAnswer.reason, request },
    );
  }
  const path = options.path ??
    { kind: "direct", label: formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port) };
  const pathStream = new FramedStream(await conn.openStream());
  await pathStream.write({ type: "path-hello", kind: path.kind, label: path.label });
  const paths = new SessionPaths(conn, pathStream, path, { onPathChange: options.onPathChange });
  return { conn: paths.conn, paths, source, control, stats: new SessionStats() };
}

async function answer(stream: FramedStream, conn: PeerConnection) {
  try {
    return await deadline(stream.read(), ANSWER_TIMEOUT_MS, "server did not answer in time");
  } catch (error) {
    throw await refusal(conn, (error as Error).message);
  }
}

/** Builds the error for a connection the server dropped, with its stated reason. */
async function refusal(conn: PeerConnection, fallback: string): Promise<Error> {
  const info = await Promise.race([
    conn.closed,
    new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
  ]);
  const reason = info?.reason || fallback;
  return new SessionRefusedError("closed", `server closed the connection: ${reason}`, { reason });
}

/** The server did not open the connection to the source; `message` says why. */
export class ConnectionRefusedByServerError extends Error {
  /** Always "ConnectionRefusedByServerError". */
  override name = "ConnectionRefusedByServerError";
}

/**
 * Reads the server's answer to a tcp-open: resolves with any data that came
 * after it, or rejects with the server's reason. Releases `readable` on success
 * and cancels it otherwise.
 */
async function readTcpResult(
  readable: ReadableStream<Uint8Array>,
  timeoutMs: number,
): Promise<Uint8Array> {
  const reader = readable.getReader();
  const decoder = new FrameDecoder();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        throw new ConnectionRefusedByServerError(
          timedOut
            ? `the server did not answer within ${timeoutMs / 1000} s`
            : "the server closed the stream without an answer",
        );
      }
      const message = decoder.pushOne(value);
      if (!message) continue;
      if (message.type !== "tcp-result") {
        throw new ProtocolError(`expected tcp-result, got ${message.type}`);
      }
      if (!message.connected) throw new ConnectionRefusedByServerError(message.reason);
      const remainder = decoder.takeRemainder();
      reader.releaseLock();
      return remainder;
    }
  } catch (error) {
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Forwards every connection accepted on `listener` as one stream of the session
 * `sessions` supplies for it, until `listener` is closed. A connection that
 * arrives while there is no session waits for the next (bounded by the
 * supplier); one that gets none, or that the server could not open, is closed
 * with a warning saying why (alike warnings summarised).
 */
export async function forwardTcp(
  sessions: SessionSupplier,
  listener: Deno.TcpListener,
  log: TunnelLog,
): Promise<void> {
  const active = new Set<Promise<void>>();
  const warnings = new RepeatedLines((line) => log.warn(line));
  try {
    for await (const tcp of listener) {
      const job = forwardOne(sessions, tcp, log, warnings);
      active.add(job);
      job.finally(() => active.delete(job));
    }
  } catch {
    // The listener was closed: the client is ending.
  }
  await Promise.all(active);
  warnings.close();
}

/** Forwards one local connection through the session `sessions` supplies for it. */
async function forwardOne(
  sessions: SessionSupplier,
  tcp: Deno.TcpConn,
  log: TunnelLog,
  warnings: RepeatedLines,
): Promise<void> {
  const remote = tcp.remoteAddr;
  const from = formatHostPort(remote.hostname, remote.port);
  let stream;
  let stats: SessionStats;
  let conn: PeerConnection;
  let paths: SessionPaths;
  try {
    const current = await sessions.current().catch((error) => {
      warnings.report(
        "no-session",
        `connection from ${from} closed: no session to the server: ${(error as Error).message}`,
      );
      throw error;
    });
    conn = current.conn;
    paths = current.paths;
    stats = current.stats;
    stream = await deadline(
      conn.openStream(),
      OPEN_STREAM_TIMEOUT_MS,
      `the server gave no stream credit within ${OPEN_STREAM_TIMEOUT_MS / 1000} s`,
    ).catch((error) => {
      warnings.report("open-stream", `cannot forward ${from}: ${(error as Error).message}`);
      throw error;
    });
  } catch {
    tcp.close();
    return;
  }
  const framed = new FramedStream(stream);
  const pipeId = nextPipeId();
  try {
    await framed.write({ type: "tcp-open", pipeId });
  } catch {
    tcp.close();
    framed.abort();
    return;
  }
  const { stream: raw } = framed.release();
  log.debug(`connection from ${from} opened`);
  const opened = readTcpResult(raw.readable, TCP_RESULT_TIMEOUT_MS);
  opened.catch((error) => {
    const reason = (error as Error).message;
    warnings.report(
      `refused: ${reason}`,
      `connection from ${from} closed: the server could not open it: ${reason}`,
    );
  });
  const stripes = new StripeSet(raw);
  const grow = () => {
    if (!windowMayBind(paths.paths())) return false;
    for (let index = 1; index < MAX_STRIPES; index++) {
      openStripe(conn, pipeId, index, stripes).catch((error) =>
        log.debug(`connection from ${from}: stripe ${index} not opened: ${error.message}`)
      );
    }
    return true;
  };
  const moved = await pipeTcpToStripes(tcp, stripes, { opened, stats, grow });
  log.debug(
    `connection from ${from} closed (${formatBytes(moved.sent)} sent, ${
      formatBytes(moved.received)
    } received)`,
  );
}

/**
 * Round trip below which a connection keeps one stream. One stream's window (quinn's
 * 1,250,000 bytes) per round trip is 250 MB/s at 5 ms, more than the tunnel moves; and on
 * a path that short, stripes cost: on loopback the tunnel moved 0.81-0.85x bare QUIC with
 * them and 0.98-1.04x without (iperf3, interleaved pairs).
 */
export const STRIPE_MIN_RTT_MS = 5;

/**
 * Whether one stream's window may hold a connection back on the session's best path:
 * its round trip is at least {@linkcode STRIPE_MIN_RTT_MS}. False until a probe has
 * measured one (the pipe asks again later).
 */
export function windowMayBind(paths: readonly PathInfo[]): boolean {
  const measured = paths.filter((path) => path.live && path.rttMs !== undefined);
  if (measured.length === 0) return false;
  return Math.min(...measured.map((path) => path.rttMs!)) >= STRIPE_MIN_RTT_MS;
}

let lastPipeId = 0;
/** A connection id no other connection of this process has had (until 2^32 of them). */
function nextPipeId(): number {
  lastPipeId = (lastPipeId + 1) >>> 0;
  return lastPipeId;
}

/**
 * Opens stripe `index` of connection `pipeId` and adds it to `stripes` once its
 * header is written (so the server knows what it is before any segment on it).
 */
async function openStripe(
  conn: PeerConnection,
  pipeId: number,
  index: number,
  stripes: StripeSet,
): Promise<void> {
  const framed = new FramedStream(
    await deadline(conn.openStream(), OPEN_STREAM_TIMEOUT_MS, "no stream credit"),
  );
  try {
    await framed.write({ type: "tcp-stripe", pipeId, index });
  } catch (error) {
    framed.abort();
    throw error;
  }
  const { stream } = framed.release();
  if (!stripes.add(index, stream)) {
    // The connection ended meanwhile.
    stream.writable.close().catch(() => {});
    stream.readable.cancel().catch(() => {});
  }
}

/**
 * Forwards local UDP peers of `socket` through the session `sessions` has at
 * each datagram, until `socket` is closed. Datagrams that arrive while there is
 * no session are dropped (with a summarised warning); flows go on through the
 * next session.
 */
export async function forwardUdp(
  sessions: SessionSupplier,
  socket: Deno.DatagramConn,
  log: TunnelLog,
): Promise<{ sent: number; received: number }> {
  return await relayLocalUdp(sessions, socket, log);
}
