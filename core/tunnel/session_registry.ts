/**
 * The sessions a process runs now, for its status view: each one's peer, its
 * paths and the path new traffic takes, and its live counters. Snapshots are
 * plain data (JSON as it stands).
 * @module
 */
import type { PathInfo } from "../transport/mod.ts";
import type { SessionPaths } from "./session_paths.ts";
import type { SessionStats } from "./session_stats.ts";

/** One running session, as registered. */
export interface SessionEntry {
  /** The session's name in logs (`session 3`). */
  label: string;
  /** Who is at the other end: the client's address, or the server's EndpointId. */
  peer: string;
  /** The client key it proved, as named in logs (`key "alice-laptop"`); none for a token. */
  clientKey?: string;
  /** The forwarded source. */
  source: string;
  /** Its paths. */
  paths: SessionPaths;
  /** Its counters. */
  stats: SessionStats;
}

/** A path in a snapshot. */
export interface PathStatus {
  /** Direct or relayed. */
  kind: PathInfo["kind"];
  /** Address or relay URL. */
  label: string;
  /** Smoothed round trip, when known. */
  rttMs: number | null;
  /** Answering probes. */
  live: boolean;
}

/** One session in a snapshot. */
export interface SessionStatus {
  /** As in {@linkcode SessionEntry}. */
  label: string;
  /** As in {@linkcode SessionEntry}. */
  peer: string;
  /** As in {@linkcode SessionEntry}; absent for a token. */
  clientKey?: string;
  /** As in {@linkcode SessionEntry}. */
  source: string;
  /** The path new traffic takes, or null between paths. */
  path: PathStatus | null;
  /** Milliseconds on that path. */
  onPathMs: number;
  /** Every path of the session. */
  paths: PathStatus[];
  /** Bytes sent to the peer. */
  sent: number;
  /** Bytes received from the peer. */
  received: number;
  /** TCP connections open now. */
  tcpConnections: number;
  /** UDP flows open now. */
  udpFlows: number;
}

function pathStatus(path: PathInfo): PathStatus {
  return { kind: path.kind, label: path.label, rttMs: path.rttMs ?? null, live: path.live };
}

/** The sessions of one process. */
export class SessionRegistry {
  readonly #entries = new Set<SessionEntry>();

  /** Registers a running session; call the returned function when it ends. */
  add(entry: SessionEntry): () => void {
    this.#entries.add(entry);
    return () => this.#entries.delete(entry);
  }

  /** Sessions now. */
  get size(): number {
    return this.#entries.size;
  }

  /** A snapshot of every session. */
  snapshot(): SessionStatus[] {
    return [...this.#entries].map((entry) => {
      const conn = entry.paths.conn;
      const current = conn.currentPath;
      return {
        label: entry.label,
        peer: entry.peer,
        ...(entry.clientKey === undefined ? {} : { clientKey: entry.clientKey }),
        source: entry.source,
        path: current ? pathStatus(current) : null,
        onPathMs: current ? Math.max(0, performance.now() - conn.currentSince) : 0,
        paths: entry.paths.paths().map(pathStatus),
        sent: entry.stats.sent,
        received: entry.stats.received,
        tcpConnections: entry.stats.tcpConnections,
        udpFlows: entry.stats.udpFlows,
      };
    });
  }
}
