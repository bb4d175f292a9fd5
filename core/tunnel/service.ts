/**
 * What a session carries, as handlers registered per kind of service: the
 * session's handshake (auth, request, answer) picks the handler by the
 * request's scheme (`tcp://`, `udp://`; a VPN's `ip://` later) and hands it the
 * connection. A new kind adds a handler, not a branch in the session.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import type { TunnelLog } from "./log.ts";
import type { RepeatedLines } from "../log/mod.ts";
import type { SessionStats } from "./session_stats.ts";

/** A handler's answer to a request: what it grants, or why not. */
export type ServiceDecision<Grant> =
  | {
    accepted: true;
    grant: Grant;
    /** What the session is, for its log line (`forwarding to …`). */
    description: string;
    /** What the status view shows as the session's source; default the request. */
    source?: string;
  }
  | { accepted: false; reason: string };

/** What a handler gets to serve an accepted session. */
export interface ServiceSession {
  /** The authenticated connection. */
  conn: PeerConnection;
  /** The control stream the request came on (still open both ways). */
  control: FramedStream;
  /** Where status lines go. */
  log: TunnelLog;
  /** Label of the session for log lines. */
  label: string;
  /**
   * Who the client is for the process-wide pools' shares: its token and
   * address (see `SessionLimiter.forClient`); never shown.
   */
  client: string;
  /** Summarises alike lines across sessions. */
  warnings: RepeatedLines;
  /** The session's live counters (bytes each way, open connections and flows). */
  stats?: SessionStats;
}

/** Bytes a served session moved. */
export interface ServiceTotals {
  /** To the client. */
  sent: number;
  /** From the client. */
  received: number;
}

/** The server's handler of one kind of service. */
export interface ServerService<Grant = unknown> {
  /** Checks a request of this kind (the whole text, scheme included). Never throws. */
  check(request: string): Promise<ServiceDecision<Grant>>;
  /** Serves the session until the connection ends; never throws. */
  serve(grant: Grant, session: ServiceSession): Promise<ServiceTotals>;
  /**
   * Gives back what {@linkcode check} reserved for a grant that was never
   * served (the session ended in between). Not called after `serve`.
   */
  release?(grant: Grant): void;
}

/** Handlers by kind (the request's scheme). */
// Each handler has its own grant type; the session only passes it back.
// deno-lint-ignore no-explicit-any
export type ServerServices = Readonly<Record<string, ServerService<any>>>;

/** The kind of a request: its scheme (`tcp` of `tcp://host:22`), or undefined. */
export function serviceKindOf(request: string): string | undefined {
  const end = request.indexOf("://");
  return end > 0 ? request.slice(0, end).toLowerCase() : undefined;
}
