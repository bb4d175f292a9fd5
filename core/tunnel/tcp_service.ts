/**
 * The `tcp` service: each stream the client opens is one connection to the
 * checked source, answered with a TcpResult and then piped both ways.
 * @module
 */
import { deadline, type DuplexStream } from "../transport/mod.ts";
import type { AllowList } from "./allow_list.ts";
import type { ByteConn, Dialer } from "./dialer.ts";
import { FramedStream } from "./framed_stream.ts";
import type { Resolver } from "./resolver.ts";
import type { ServerService, ServiceSession, ServiceTotals } from "./service.ts";
import type { SessionLimiter } from "./session_limiter.ts";
import { checkSource, type SourceGrant } from "./source_check.ts";
import { formatHostPort } from "./source.ts";
import { ProtocolError } from "./messages.ts";
import { STRIPE_WAIT_MS, StripeSet } from "./stripe_set.ts";
import { OpenPipes } from "./open_pipes.ts";
import { pipeTcpToStripes } from "./tcp_pipe.ts";

/**
 * Forwarded TCP connections open at once in one session. 256 covers a browser
 * or a build tool through one tunnel; each holds a socket and three 64 KiB segment
 * buffers (tcp_pipe.ts), and its stripes count among the 1,024 streams a peer may open.
 */
export const MAX_TCP_STREAMS_PER_SESSION = 256;
/** Forwarded TCP connections of all sessions together (each holds a socket). */
export const MAX_PROCESS_TCP_STREAMS = 4_096;
/** A stream that does not say what it is for within this time is reset. */
const STREAM_HEADER_TIMEOUT_MS = 10_000;
/** Dialing the requested service gives up after this long per address. */
const SOURCE_CONNECT_TIMEOUT_MS = 5_000;

/** What the `tcp` service needs. */
export interface TcpServiceOptions {
  /** Networks sources may be in. */
  allowed: AllowList;
  /** Resolves requested host names. */
  resolve: Resolver;
  /** How the server reaches sources. */
  dialer: Dialer;
  /** Connections of all sessions of the process, with each client's share. */
  processStreams: SessionLimiter;
  /**
   * How long a stripe waits for the TcpOpen of its connection, which may come later
   * on its own stream. Default {@linkcode STRIPE_WAIT_MS}.
   */
  stripeWaitMs?: number;
}

/** The `tcp` service handler. */
export function tcpService(options: TcpServiceOptions): ServerService<SourceGrant> {
  return {
    check: (request) => checkSource(request, "tcp", options.allowed, options.resolve),
    serve: (grant, session) => serveTcpStreams(session, grant, options),
  };
}

async function serveTcpStreams(
  session: ServiceSession,
  grant: SourceGrant,
  options: TcpServiceOptions,
): Promise<ServiceTotals> {
  const { conn, label, log, warnings } = session;
  const processStreams = options.processStreams.forClient(session.client);
  const totals = { sent: 0, received: 0 };
  const pipes = new Set<Promise<void>>();
  const open = new OpenPipes();
  const stripeWaitMs = options.stripeWaitMs ?? STRIPE_WAIT_MS;
  for (;;) {
    const raw = await conn.acceptStream();
    if (!raw) {
      open.closeAll();
      break;
    }
    const pipe = (async () => {
      const framed = new FramedStream(raw);
      let counted = false;
      let stripes: StripeSet | undefined;
      let pipeId = -1;
      let piped = false;
      try {
        const header = await deadline(
          framed.readHeader(),
          STREAM_HEADER_TIMEOUT_MS,
          "no stream header",
        );
        if (header?.type === "tcp-stripe") {
          const joining = await open.find(header.pipeId, stripeWaitMs);
          if (!joining) throw new ProtocolError("stripe of a connection that is not open");
          const { stream, remainder } = framed.release();
          let joined = false;
          try {
            joined = joining.add(header.index, stream, remainder);
            if (joined) {
              log.debug(`[${label}] connection ${header.pipeId}: stripe ${header.index} joined`);
            }
          } finally {
            // A bad index, or a connection that has just ended: the stream is dropped.
            if (!joined) dropStream(stream);
          }
          return;
        }
        if (header?.type !== "tcp-open") throw new Error("stream did not start with tcp-open");
        // Known from now on: a client may open stripes before the TcpResult reaches it.
        const opening = new StripeSet(framed.stream);
        if (!open.open(header.pipeId, opening)) {
          throw new ProtocolError(`connection id ${header.pipeId} is already open`);
        }
        stripes = opening;
        pipeId = header.pipeId;
        // pipes includes this one.
        const refusal = pipes.size > MAX_TCP_STREAMS_PER_SESSION
          ? `too many connections in this session (limit ${MAX_TCP_STREAMS_PER_SESSION})`
          : !processStreams.tryAcquire()
          ? `the server's TCP connections are at their ${processStreams.limitReached()}`
          : undefined;
        if (refusal) {
          warnings.report("tcp-limit", `[${label}] refused a connection: ${refusal}`);
          await refuseStream(framed, refusal);
          return;
        }
        counted = true;
        let tcp: ByteConn;
        try {
          tcp = await dialFirst(options.dialer, grant.addresses, grant.source.port);
        } catch (error) {
          const reason = (error as Error).message;
          warnings.report("tcp-dial", `[${label}] ${reason}`);
          await refuseStream(framed, reason);
          return;
        }
        await framed.write({ type: "tcp-result", connected: true, reason: "" });
        const { remainder } = framed.release();
        piped = true;
        const moved = await pipeTcpToStripes(tcp, stripes, {
          initial: remainder,
          stats: session.stats,
        });
        totals.sent += moved.sent;
        totals.received += moved.received;
        log.debug(`[${label}] tcp stream closed (${moved.sent} B out, ${moved.received} B in)`);
      } catch (error) {
        log.debug(`[${label}] tcp stream failed: ${(error as Error).message}`);
        framed.abort();
      } finally {
        if (counted) processStreams.release();
        if (stripes) {
          open.close(pipeId);
          // Refused or failed before piping: stripes that joined are dropped with it.
          if (!piped) dropStripes(stripes);
        }
      }
    })();
    pipes.add(pipe);
    pipe.finally(() => pipes.delete(pipe));
  }
  await Promise.all(pipes);
  return totals;
}

/** Closes a set that never carried its connection and resets the stripes that joined it. */
function dropStripes(stripes: StripeSet): void {
  stripes.close();
  for (const stripe of stripes.stripes.slice(1)) if (stripe) dropStream(stripe);
}

/** Resets both halves of a stream nobody will use. */
function dropStream(stream: DuplexStream): void {
  stream.writable.abort().catch(() => {});
  stream.readable.cancel().catch(() => {});
}

/** Tells the client why its connection was not opened, then ends the stream. */
async function refuseStream(framed: FramedStream, reason: string): Promise<void> {
  await framed.write({ type: "tcp-result", connected: false, reason });
  await framed.closeWrite();
  // What the client already sent is of no use; stop it from sending more.
  framed.abort();
}

async function dialFirst(dialer: Dialer, addresses: string[], port: number): Promise<ByteConn> {
  let last: unknown;
  for (const hostname of addresses) {
    try {
      return await deadline(
        dialer.connectTcp(hostname, port),
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
