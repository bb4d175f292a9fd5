/**
 * What follows an iroh-mode client's current session (forwarding or VPN): its
 * path lines, its hole punching, and its entry in the status view.
 * @module
 */
import type { EndpointId } from "../identity/mod.ts";
import {
  formatSource,
  type PathInfo,
  SessionRegistry,
  type SessionStatus,
  type Source,
  type TunnelLog,
} from "../tunnel/mod.ts";
import type { Upgrader } from "../upgrade/mod.ts";
import type { FoundRecord, ServerSession } from "./connect_server.ts";
import { type EndpointIce, startClientUpgrades } from "./upgrades.ts";
import { PathAnnouncer } from "./path_announcer.ts";

/**
 * What follows the client's current session: its path lines, its hole
 * punching, and its entry in the status view. Each new session replaces the last.
 */
export class SessionFollower {
  /** The sessions the status view lists (at most one). */
  readonly registry = new SessionRegistry();
  /** What the status view says of the client. */
  state: "connecting" | "connected" | "reconnecting" = "connecting";
  readonly #settings: FollowedServer;
  readonly #log: TunnelLog;
  readonly #announcer: PathAnnouncer;
  #unregister: (() => void) | undefined;
  #upgrader: Upgrader | undefined;
  #record: FoundRecord | undefined;

  /** Follows sessions with the server `settings` names, logging path lines to `log`. */
  constructor(settings: FollowedServer, log: TunnelLog) {
    this.#settings = settings;
    this.#log = log;
    this.#announcer = new PathAnnouncer((line) => log.info(line));
  }

  /** Where a new session reports path changes. */
  readonly onPathChange = (path: PathInfo): void => this.#announcer.changed(path);

  /** Follows `found` from now on; `source` is what the status view says it carries. */
  adopt(found: ServerSession, source?: string): void {
    this.#leave();
    const { session } = found;
    // A connect that won by a given address may not have waited for the record.
    if (found.record) this.#record = found.record;
    this.#announcer.watch(() => session.paths.paths());
    this.#unregister = this.registry.add({
      label: "session",
      peer: this.#settings.serverId.toString(),
      source: source ??
        (typeof this.#settings.source === "string"
          ? this.#settings.source
          : formatSource(this.#settings.source)),
      paths: session.paths,
      stats: session.stats,
    });
    if (found.relayUrl !== undefined && !this.#settings.relayOnly) {
      this.#upgrader = startClientUpgrades(
        session.paths,
        this.#settings.serverId,
        this.#settings.ice,
        found.relayUrl,
        this.#log,
      );
    }
    this.state = "connected";
  }

  /** What a status view says of the client now. */
  status(): FollowerStatus {
    return {
      role: "client",
      endpointId: this.#settings.serverId.toString(),
      state: this.state,
      sessions: this.registry.snapshot(),
      ...(this.#record ? { record: describeRecord(this.#record) } : {}),
    };
  }

  /** The session was lost; another is being made. */
  lost(): void {
    this.#leave();
    this.state = "reconnecting";
  }

  #leave(): void {
    this.#upgrader?.stop();
    this.#upgrader = undefined;
    this.#unregister?.();
    this.#unregister = undefined;
  }
}

/** What a status view says of a following client. */
export interface FollowerStatus {
  /** Always "client". */
  role: "client";
  /** The server's EndpointId. */
  endpointId: string;
  /** Connecting, connected or reconnecting. */
  state: "connecting" | "connected" | "reconnecting";
  /** Its session (at most one), as the registry lists it. */
  sessions: SessionStatus[];
  /** Where the server's record was last found, and when it was signed. */
  record?: string;
}

/** "in the DHT, signed 2026-12-06T19:00:00.000Z": where a record came from, for people. */
function describeRecord(record: FoundRecord): string {
  const signed = new Date(Number(record.timestampMicros / 1000n));
  const when = Number.isNaN(signed.getTime())
    ? `seq ${record.timestampMicros}`
    : signed.toISOString();
  return `${record.where}, signed ${when}`;
}

/** What a {@linkcode SessionFollower} needs to know of the server and the way to it. */
export interface FollowedServer {
  /** The server's key. */
  serverId: EndpointId;
  /** Only relay paths: no hole punching. */
  relayOnly: boolean;
  /** How hole punching gathers candidates. */
  ice: EndpointIce;
  /** What the sessions carry, as the status view says it. */
  source: Source | string;
}
