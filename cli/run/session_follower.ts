/**
 * What follows an iroh-mode client's current session (forwarding or VPN): its
 * path lines, its hole punching, and its entry in the status view.
 * @module
 */
import { type ServerSession, startClientUpgrades } from "../../core/endpoint/mod.ts";
import type { EndpointId } from "../../core/identity/mod.ts";
import {
  formatHostPort,
  formatSource,
  type PathInfo,
  SessionRegistry,
  type Source,
} from "../../core/tunnel/mod.ts";
import type { Upgrader } from "../../core/upgrade/mod.ts";
import type { Output } from "../output.ts";
import type { IrohIceSettings } from "../settings/iroh_ice.ts";
import { serveStatus, type StatusDocument } from "../status_endpoint.ts";
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
  readonly #out: Output;
  readonly #announcer: PathAnnouncer;
  #unregister: (() => void) | undefined;
  #upgrader: Upgrader | undefined;

  /** Follows sessions with the server `settings` names, printing path lines to `out`. */
  constructor(settings: FollowedServer, out: Output) {
    this.#settings = settings;
    this.#out = out;
    this.#announcer = new PathAnnouncer((line) => out.info(line));
  }

  /** Where a new session reports path changes. */
  readonly onPathChange = (path: PathInfo): void => this.#announcer.changed(path);

  /** Follows `found` from now on; `source` is what the status view says it carries. */
  adopt(found: ServerSession, source?: string): void {
    this.#leave();
    const { session } = found;
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
        this.#out,
      );
    }
    this.state = "connected";
  }

  /**
   * Serves the client's status view at `address` (loopback), with `more` of
   * its mode (a VPN's address), and prints the command that reads it.
   * @throws {Error} when the address cannot be bound.
   */
  serveStatus(
    address: { host: string; port: number },
    more: () => Pick<StatusDocument, "vpn"> = () => ({}),
  ): Deno.HttpServer<Deno.NetAddr> {
    const view = serveStatus(address, () => ({
      role: "client",
      endpointId: this.#settings.serverId.toString(),
      state: this.state,
      sessions: this.registry.snapshot(),
      ...more(),
    }));
    this.#out.info(`Status: tunnel status ${formatHostPort(view.addr.hostname, view.addr.port)}`);
    return view;
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

/** What a {@linkcode SessionFollower} needs to know of the server and the way to it. */
export interface FollowedServer {
  /** The server's key. */
  serverId: EndpointId;
  /** Only relay paths: no hole punching. */
  relayOnly: boolean;
  /** How hole punching gathers candidates. */
  ice: IrohIceSettings;
  /** What the sessions carry, as the status view says it. */
  source: Source | string;
}
