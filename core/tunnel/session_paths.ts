/**
 * The paths of one session: the connection it was made on and, later, direct
 * ones that joined it. Each path has a probe stream ({@linkcode PathChannel});
 * the first path's stream also carries the hole-punching signaling, which the
 * owner reads with {@linkcode SessionPaths.nextSignal}. Sessions see only
 * {@linkcode SessionPaths.conn}, one connection over all paths.
 * @module
 */
import {
  AsyncQueue,
  MultipathConnection,
  type PathInfo,
  type PathOptions,
  type PeerConnection,
} from "../transport/mod.ts";
import type { FramedStream } from "./framed_stream.ts";
import { PathChannel, type PathSignal } from "./path_channel.ts";

/** Signaling messages received and not yet read (an honest peer has one in flight). */
const MAX_QUEUED_SIGNALS = 8;
/**
 * How often the peer's liveness is judged: a gone peer is noticed within this
 * much of its bound (5 s of silence).
 */
export const LIVENESS_CHECK_MS = 250;

/** Options of {@linkcode SessionPaths}. */
export interface SessionPathsOptions {
  /** Told each time new traffic moves to another path. */
  onPathChange?(path: PathInfo): void;
}

/** The paths of one session and their probes. */
export class SessionPaths {
  /** The session's connection: every path, the best one for new traffic. */
  readonly conn: MultipathConnection;
  readonly #channels = new Map<number, PathChannel>();
  readonly #signals = new AsyncQueue<PathSignal>();
  readonly #livenessTimer: ReturnType<typeof setInterval>;
  #signalsEnded = false;

  /**
   * Starts with the session's first connection.
   * @param first the connection the session was made on
   * @param stream its path stream, past the hello
   * @param path how it reaches the peer
   */
  constructor(
    first: PeerConnection,
    stream: FramedStream,
    path: PathOptions,
    options: SessionPathsOptions = {},
  ) {
    this.conn = new MultipathConnection(first, path, { onPathChange: options.onPathChange });
    // A peer gone quiet ends the session here, not at QUIC's idle timeout: a relayed
    // path's is long enough to outlive a relay outage (see Liveness).
    this.#livenessTimer = setInterval(() => this.conn.checkLiveness(), LIVENESS_CHECK_MS);
    Deno.unrefTimer(this.#livenessTimer);
    const id = this.conn.paths()[0].id;
    const channel = new PathChannel(stream, {
      onHeard: (rtt) => this.conn.heard(id, rtt),
      onSignal: (signal) => this.#pushSignal(signal),
    });
    this.#watch(id, first, channel);
    channel.done.then(() => this.#endSignals());
    this.conn.closed.then(() => this.close());
  }

  /** Adds a path whose stream has passed its join message; returns its id. */
  add(conn: PeerConnection, stream: FramedStream, path: PathOptions): number {
    const id = this.conn.addPath(conn, path);
    if (id < 0) {
      stream.abort();
      return id;
    }
    this.#watch(
      id,
      conn,
      new PathChannel(stream, { onHeard: (rtt) => this.conn.heard(id, rtt), probeNow: true }),
    );
    return id;
  }

  /** Every path now. */
  paths(): PathInfo[] {
    return this.conn.paths();
  }

  /**
   * The peer's next signaling message, or null once the first path's stream
   * has ended (no more hole punching in this session).
   */
  nextSignal(): Promise<PathSignal | null> {
    return this.#signals.shift();
  }

  /** Drops signaling messages received and not yet read (answers to attempts given up). */
  discardSignals(): void {
    while (this.#signals.size > 0) this.#signals.shift();
  }

  /**
   * Sends a signaling message on the first path's stream.
   * @throws {Error} when that stream is gone.
   */
  async signal(message: PathSignal): Promise<void> {
    const first = this.#channels.values().next().value;
    if (!first || this.#signalsEnded) throw new Error("the session's first path is gone");
    await first.signal(message);
  }

  /** Stops every probe (the connections close with the session). */
  close(): void {
    clearInterval(this.#livenessTimer);
    for (const channel of this.#channels.values()) channel.close();
    this.#endSignals();
  }

  #watch(id: number, conn: PeerConnection, channel: PathChannel): void {
    this.#channels.set(id, channel);
    conn.closed.then(() => {
      channel.close();
      this.#channels.delete(id);
    });
    // Without its probe stream a path cannot be judged: let it go.
    channel.done.then(() => {
      if (this.conn.paths().length > 1) conn.close({ code: 0, reason: "path probe ended" });
    });
  }

  #pushSignal(signal: PathSignal): void {
    // An honest peer waits for each answer: a backlog is dropped, not kept.
    if (this.#signals.size < MAX_QUEUED_SIGNALS) this.#signals.push(signal);
  }

  #endSignals(): void {
    this.#signalsEnded = true;
    this.#signals.end();
  }
}

/** A path in one line: `direct 203.0.113.7:41641, rtt 1.2 ms` or `relay <url>, rtt 4.8 ms`. */
export function describePath(path: PathInfo): string {
  const rtt = path.rttMs === undefined ? "" : `, rtt ${path.rttMs.toFixed(1)} ms`;
  return `${path.kind} ${path.label}${rtt}`;
}
