/**
 * The server's side of one client connection: authentication, the source
 * request, then forwarding. Independent of how the connection was made.
 * @module
 */
import { AdmissionLimit, CloseCode, deadline, type PeerConnection } from "../transport/mod.ts";
import type { AllowList } from "./allow_list.ts";
import { FramedStream } from "./framed_stream.ts";
import { formatBytes, type TunnelLog } from "./log.ts";
import { AuthStatus } from "./messages.ts";
import { RepeatedLines } from "./repeated_lines.ts";
import { resolveAllowed, type Resolver } from "./resolver.ts";
import { SessionLimiter } from "./session_limiter.ts";
import { formatHostPort, formatSource, parseSource, type Source } from "./source.ts";
import { pipeTcpToStream } from "./tcp_pipe.ts";
import { serveUdpFlows } from "./udp_server_relay.ts";

/**
 * A client that sends no valid credential within this time is disconnected. An
 * honest client sends it right after the handshake: one round trip.
 */
export const AUTH_TIMEOUT_MS = 5_000;
/** How long an authenticated client has to open its control stream and ask for a source. */
export const REQUEST_TIMEOUT_MS = 5_000;
/**
 * Forwarded TCP connections open at once in one session. 256 covers a browser
 * or a build tool through one tunnel; each holds a socket and up to ~128 KiB.
 */
export const MAX_TCP_STREAMS_PER_SESSION = 256;
/**
 * Connections not yet authenticated, at once: each lives at most
 * {@linkcode AUTH_TIMEOUT_MS}, so 128 lets a crowd of honest clients in while a
 * flood costs little.
 */
export const MAX_UNAUTHENTICATED = 128;
/** Connections not yet authenticated from one IP address (a NAT shares one). */
export const MAX_UNAUTHENTICATED_PER_ADDRESS = 16;
/**
 * UDP flows of all sessions together: each holds a socket (a file descriptor)
 * and a receive buffer of 4 KiB (64 KiB once it has carried a larger datagram).
 */
export const MAX_PROCESS_UDP_FLOWS = 4_096;
/** Forwarded TCP connections of all sessions together (each holds a socket). */
export const MAX_PROCESS_TCP_STREAMS = 4_096;

/** Limits shared by every session of one server process. */
export interface ServerLimits {
  /** Connections not yet authenticated, in total and per address. */
  unauthenticated: AdmissionLimit;
  /** UDP flows of all sessions. */
  processUdpFlows: SessionLimiter;
  /** Forwarded TCP connections of all sessions. */
  processTcpStreams: SessionLimiter;
  /** Summarises alike lines of all sessions; close it when the server stops. */
  warnings: RepeatedLines;
}

/** The process-wide limits at their defaults, with alike lines summarised into `log.info`. */
export function serverLimits(log: TunnelLog): ServerLimits {
  return {
    unauthenticated: new AdmissionLimit({
      total: MAX_UNAUTHENTICATED,
      perAddress: MAX_UNAUTHENTICATED_PER_ADDRESS,
    }),
    processUdpFlows: new SessionLimiter(MAX_PROCESS_UDP_FLOWS),
    processTcpStreams: new SessionLimiter(MAX_PROCESS_TCP_STREAMS),
    warnings: new RepeatedLines((line) => log.info(line)),
  };
}

/** A stream that does not say what it is for within this time is reset. */
const STREAM_HEADER_TIMEOUT_MS = 10_000;
/** How long a refused connection stays open so the refusal reaches the client. */
const REFUSAL_LINGER_MS = 1_000;
/** Dialing the requested service gives up after this long per address. */
const SOURCE_CONNECT_TIMEOUT_MS = 5_000;

/** What a server session needs to decide and to act. */
export interface ServerSessionOptions {
  /** Checks a client's credential (in constant time). */
  authenticate(credential: Uint8Array): boolean;
  /** Networks TCP sources may be in. */
  allowedTcp: AllowList;
  /** Networks UDP sources may be in. */
  allowedUdp: AllowList;
  /** Resolves a requested host name (injected so tests need no DNS). */
  resolve: Resolver;
  /** Authenticated sessions of the process (`--max-sessions`). */
  sessions: SessionLimiter;
  /** Where status lines go. */
  log: TunnelLog;
  /** Label for log lines (e.g. a session number). */
  label: string;
  /** Time to authenticate; default {@linkcode AUTH_TIMEOUT_MS}. */
  authTimeoutMs?: number;
  /**
   * Connections not yet authenticated, across the process (in total and per
   * address); a connection past the limit is closed at once. None when absent.
   */
  unauthenticated?: AdmissionLimit;
  /** Summarises alike lines across sessions (refusals, limits). One per session when absent. */
  warnings?: RepeatedLines;
  /** UDP flows of the whole process. Unbounded across sessions when absent. */
  processUdpFlows?: SessionLimiter;
  /** Forwarded TCP connections of the whole process. Unbounded across sessions when absent. */
  processTcpStreams?: SessionLimiter;
}

/**
 * Serves one connection until it ends. Never throws: a misbehaving client only
 * ever loses its own connection.
 */
export async function serveConnection(
  conn: PeerConnection,
  options: ServerSessionOptions,
): Promise<void> {
  const { log, label } = options;
  const warnings = options.warnings ?? new RepeatedLines((line) => log.info(line));
  const peerHost = conn.remoteAddr.hostname;
  const peer = formatHostPort(peerHost, conn.remoteAddr.port);
  const refused = (why: string) =>
    warnings.report(`refused: ${why}`, `[${label}] refused ${peer}: ${why}`);

  const admission = options.unauthenticated?.tryAdmit(peerHost);
  if (admission) {
    const why = admission === "total"
      ? "too many unauthenticated connections"
      : "too many unauthenticated connections from one address";
    refused(why);
    conn.close({ code: CloseCode.ServerUnavailable, reason: `${why}; try again later` });
    if (!options.warnings) warnings.close();
    return;
  }
  let admitted = options.unauthenticated !== undefined;
  const leaveAdmission = () => {
    if (admitted) options.unauthenticated!.release(peerHost);
    admitted = false;
  };

  let acquired = false;
  const expiry = { expired: false };
  try {
    const auth = await deadline(
      authenticate(conn, options, expiry),
      options.authTimeoutMs ?? AUTH_TIMEOUT_MS,
      "no valid authentication in time",
    );
    leaveAdmission();
    if (auth !== "ok") {
      refused(auth);
      conn.close({ code: CloseCode.AuthFailed, reason: auth });
      return;
    }
    acquired = true;
    log.info(`[${label}] client connected from ${peer}`);

    // The stream and the request share one deadline: an authenticated peer that
    // never opens its control stream must not keep its session slot.
    const { control, request } = await deadline(
      (async () => {
        const control = new FramedStream(await nextStream(conn, "source request"));
        return { control, request: await control.read() };
      })(),
      REQUEST_TIMEOUT_MS,
      "no source request in time",
    );
    if (request?.type !== "source-request") throw new Error("expected a source request");
    const decision = await checkSourceRequest(request.source, options);
    if (!decision.accepted) {
      log.info(`[${label}] refused source ${request.source}: ${decision.reason}`);
      await control.write({ type: "source-response", accepted: false, reason: decision.reason });
      await control.closeWrite();
      // Give the answer time to arrive, but never let a refused client keep its
      // session slot by staying connected (keep-alives would hold it forever).
      await Promise.race([conn.closed, new Promise((r) => setTimeout(r, REFUSAL_LINGER_MS))]);
      return;
    }
    const { source, addresses } = decision;
    await control.write({ type: "source-response", accepted: true, reason: "" });
    log.info(`[${label}] forwarding to ${formatSource(source)} (${addresses.join(", ")})`);

    const totals = source.protocol === "tcp"
      ? await serveTcpStreams(conn, addresses, source.port, { ...options, warnings })
      : await serveUdpFlows(conn, control, { address: addresses[0], port: source.port }, {
        log,
        label,
        warnings,
        processFlows: options.processUdpFlows ?? new SessionLimiter(Number.MAX_SAFE_INTEGER),
      });
    log.info(
      `[${label}] session closed (${formatBytes(totals.sent)} to client, ${
        formatBytes(totals.received)
      } from client)`,
    );
  } catch (error) {
    expiry.expired = true;
    const reason = (error as Error).message;
    if (acquired) log.info(`[${label}] ${peer}: ${reason}`);
    else refused(reason);
    const code = acquired ? CloseCode.ProtocolViolation : CloseCode.AuthFailed;
    conn.close({ code, reason: reason.slice(0, 200) });
  } finally {
    leaveAdmission();
    if (acquired) options.sessions.release();
    conn.close();
    if (!options.warnings) warnings.close();
  }
}

async function nextStream(conn: PeerConnection, what: string) {
  const stream = await conn.acceptStream();
  if (!stream) throw new Error(`connection closed before the ${what}`);
  return stream;
}

/** Runs the auth exchange; "ok" or why the client is refused. */
async function authenticate(
  conn: PeerConnection,
  options: ServerSessionOptions,
  expiry: { expired: boolean },
) {
  const stream = new FramedStream(await nextStream(conn, "authentication"));
  const message = await stream.read();
  if (message?.type !== "auth-request") return "first message was not authentication";
  const refuse = async (status: AuthStatus, reason: string) => {
    await stream.write({ type: "auth-response", status, reason });
    await stream.closeWrite();
    // Let the response reach the client before the connection is closed.
    await Promise.race([conn.closed, new Promise((r) => setTimeout(r, REFUSAL_LINGER_MS))]);
    return reason;
  };
  if (!options.authenticate(message.credential)) {
    return await refuse(AuthStatus.InvalidCredential, "invalid authentication token");
  }
  // A client that answers after the deadline must not take a slot nobody frees.
  if (expiry.expired) return "authentication came too late";
  if (!options.sessions.tryAcquire()) {
    return await refuse(
      AuthStatus.ServerFull,
      `server is at its session limit (${options.sessions.max}); try again later`,
    );
  }
  await stream.write({ type: "auth-response", status: AuthStatus.Ok, reason: "" });
  await stream.closeWrite();
  return "ok";
}

/** Outcome of {@linkcode checkSourceRequest}. */
export type SourceDecision =
  | { accepted: true; source: Source; addresses: string[] }
  | { accepted: false; reason: string };

/**
 * Parses a requested source, resolves it and checks it against the allowlist
 * of its protocol. Never throws: a refusal carries the reason for the client.
 */
export async function checkSourceRequest(
  text: string,
  options: Pick<ServerSessionOptions, "allowedTcp" | "allowedUdp" | "resolve">,
): Promise<SourceDecision> {
  let source: Source;
  try {
    source = parseSource(text);
  } catch (error) {
    return { accepted: false, reason: (error as Error).message };
  }
  const allowList = source.protocol === "tcp" ? options.allowedTcp : options.allowedUdp;
  if (allowList.networks.length === 0) {
    return {
      accepted: false,
      reason: `server allows no ${source.protocol.toUpperCase()} sources`,
    };
  }
  const check = await resolveAllowed(source.host, allowList, options.resolve);
  if (!check.allowed) return { accepted: false, reason: check.reason };
  return { accepted: true, source, addresses: check.addresses };
}

async function serveTcpStreams(
  conn: PeerConnection,
  addresses: string[],
  port: number,
  options: ServerSessionOptions & { warnings: RepeatedLines },
) {
  const totals = { sent: 0, received: 0 };
  const pipes = new Set<Promise<void>>();
  const processStreams = options.processTcpStreams;
  for (;;) {
    const raw = await conn.acceptStream();
    if (!raw) break;
    const pipe = (async () => {
      const framed = new FramedStream(raw);
      let counted = false;
      try {
        const header = await deadline(
          framed.readHeader(),
          STREAM_HEADER_TIMEOUT_MS,
          "no stream header",
        );
        if (header?.type !== "tcp-open") throw new Error("stream did not start with tcp-open");
        // pipes includes this one.
        const refusal = pipes.size > MAX_TCP_STREAMS_PER_SESSION
          ? `too many connections in this session (limit ${MAX_TCP_STREAMS_PER_SESSION})`
          : processStreams && !processStreams.tryAcquire()
          ? `the server is at its connection limit (${processStreams.max})`
          : undefined;
        if (refusal) {
          options.warnings.report(
            `tcp-limit`,
            `[${options.label}] refused a connection: ${refusal}`,
          );
          await refuseStream(framed, refusal);
          return;
        }
        counted = processStreams !== undefined;
        let tcp: Deno.TcpConn;
        try {
          tcp = await dialFirst(addresses, port);
        } catch (error) {
          const reason = (error as Error).message;
          options.warnings.report(`tcp-dial`, `[${options.label}] ${reason}`);
          await refuseStream(framed, reason);
          return;
        }
        await framed.write({ type: "tcp-result", connected: true, reason: "" });
        const { stream, remainder } = framed.release();
        const moved = await pipeTcpToStream(tcp, stream, { initial: remainder });
        totals.sent += moved.sent;
        totals.received += moved.received;
        options.log.debug(
          `[${options.label}] tcp stream closed (${moved.sent} B out, ${moved.received} B in)`,
        );
      } catch (error) {
        options.log.debug(`[${options.label}] tcp stream failed: ${(error as Error).message}`);
        framed.abort();
      } finally {
        if (counted) processStreams!.release();
      }
    })();
    pipes.add(pipe);
    pipe.finally(() => pipes.delete(pipe));
  }
  await Promise.all(pipes);
  return totals;
}

/** Tells the client why its connection was not opened, then ends the stream. */
async function refuseStream(framed: FramedStream, reason: string): Promise<void> {
  await framed.write({ type: "tcp-result", connected: false, reason });
  await framed.closeWrite();
  // What the client already sent is of no use; stop it from sending more.
  framed.abort();
}

async function dialFirst(addresses: string[], port: number): Promise<Deno.TcpConn> {
  let last: unknown;
  for (const hostname of addresses) {
    try {
      return await deadline(
        Deno.connect({ hostname, port }),
        SOURCE_CONNECT_TIMEOUT_MS,
        "timed out",
      );
    } catch (error) {
      last = error;
    }
  }
  const why = last instanceof Deno.errors.ConnectionRefused
    ? "connection refused"
    : (last as Error)?.message;
  throw new Error(`cannot connect to the source ${formatHostPort(addresses[0], port)}: ${why}`);
}
