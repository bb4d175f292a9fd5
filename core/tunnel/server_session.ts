/**
 * The server's side of one client connection: authentication, the source
 * request, then forwarding. Independent of how the connection was made.
 * @module
 */
import { CloseCode, type PeerConnection } from "../transport/mod.ts";
import type { AllowList } from "./allow_list.ts";
import { deadline, FramedStream } from "./framed_stream.ts";
import { formatBytes, type TunnelLog } from "./log.ts";
import { AuthStatus } from "./messages.ts";
import { resolveAllowed, type Resolver } from "./resolver.ts";
import type { SessionLimiter } from "./session_limiter.ts";
import { formatHostPort, formatSource, parseSource, type Source } from "./source.ts";
import { pipeTcpToStream } from "./tcp_pipe.ts";
import { serveUdpFlows } from "./udp_server_relay.ts";

/** A client that sends no valid credential within this time is disconnected. */
export const AUTH_TIMEOUT_MS = 10_000;
/** How long a refused connection stays open so the refusal reaches the client. */
const REFUSAL_LINGER_MS = 1_000;
/** Dialing the requested service gives up after this long per address. */
const SOURCE_CONNECT_TIMEOUT_MS = 5_000;

/** What a server session needs to decide and to act. */
export interface ServerSessionOptions {
  /** Checks a client's credential (in constant time). */
  authenticate(credential: Uint8Array): boolean;
  allowedTcp: AllowList;
  allowedUdp: AllowList;
  resolve: Resolver;
  sessions: SessionLimiter;
  log: TunnelLog;
  /** Label for log lines (e.g. a session number). */
  label: string;
  authTimeoutMs?: number;
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
  const peer = formatHostPort(conn.remoteAddr.hostname, conn.remoteAddr.port);
  let acquired = false;
  const expiry = { expired: false };
  try {
    const auth = await deadline(
      authenticate(conn, options, expiry),
      options.authTimeoutMs ?? AUTH_TIMEOUT_MS,
      "no valid authentication in time",
    );
    if (auth !== "ok") {
      log.info(`[${label}] refused ${peer}: ${auth}`);
      conn.close({ code: CloseCode.AuthFailed, reason: auth });
      return;
    }
    acquired = true;
    log.info(`[${label}] client connected from ${peer}`);

    const control = new FramedStream(await nextStream(conn, "source request"));
    const request = await deadline(control.read(), AUTH_TIMEOUT_MS, "no source request in time");
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
      ? await serveTcpStreams(conn, addresses, source.port, options)
      : await serveUdpFlows(conn, control, { address: addresses[0], port: source.port }, options);
    log.info(
      `[${label}] session closed (${formatBytes(totals.sent)} to client, ${
        formatBytes(totals.received)
      } from client)`,
    );
  } catch (error) {
    expiry.expired = true;
    const reason = (error as Error).message;
    log.info(`[${label}] ${peer}: ${reason}`);
    const code = acquired ? CloseCode.ProtocolViolation : CloseCode.AuthFailed;
    conn.close({ code, reason: reason.slice(0, 200) });
  } finally {
    if (acquired) options.sessions.release();
    conn.close();
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
      reason:
        `server allows no ${source.protocol.toUpperCase()} sources (--allowed-${source.protocol})`,
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
  options: ServerSessionOptions,
) {
  const totals = { sent: 0, received: 0 };
  const pipes = new Set<Promise<void>>();
  for (;;) {
    const raw = await conn.acceptStream();
    if (!raw) break;
    const pipe = (async () => {
      const framed = new FramedStream(raw);
      try {
        const header = await deadline(framed.readHeader(), AUTH_TIMEOUT_MS, "no stream header");
        if (header?.type !== "tcp-open") throw new Error("stream did not start with tcp-open");
        const tcp = await dialFirst(addresses, port);
        const { stream, remainder } = framed.release();
        const moved = await pipeTcpToStream(tcp, stream, remainder);
        totals.sent += moved.sent;
        totals.received += moved.received;
        options.log.debug(
          `[${options.label}] tcp stream closed (${moved.sent} B out, ${moved.received} B in)`,
        );
      } catch (error) {
        options.log.debug(`[${options.label}] tcp stream failed: ${(error as Error).message}`);
        framed.abort();
      }
    })();
    pipes.add(pipe);
    pipe.finally(() => pipes.delete(pipe));
  }
  await Promise.all(pipes);
  return totals;
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
  throw new Error(`cannot connect to the source: ${(last as Error)?.message}`);
}
