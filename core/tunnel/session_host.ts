/**
 * The sessions a server runs at once, whatever brought their connections (a
 * QUIC listener, a relay, an ICE path signaled over Nostr or by copy-paste):
 * each is numbered, served with the server's shared options, and waited for
 * when the server stops. Every server mode serves through one.
 * @module
 */
import type { CloseInfo, PeerConnection } from "../transport/mod.ts";
import { serveConnection, type ServerSessionOptions } from "./server_session.ts";
import type { SessionPaths } from "./session_paths.ts";

/** What every session of a host shares: all of a session's options but its label and check. */
export type SessionHostOptions = Omit<ServerSessionOptions, "label" | "authenticate">;

/** Serves connections as numbered sessions. */
export class SessionHost {
  readonly #options: SessionHostOptions;
  readonly #active = new Set<Promise<void>>();
  /** Each running session's connection: its first one, then every path once it has them. */
  readonly #conns = new Map<string, PeerConnection>();
  #counter = 0;

  /** A host whose sessions share `options`. */
  constructor(options: SessionHostOptions) {
    this.#options = options;
  }

  /** Sessions being served now. */
  get active(): number {
    return this.#active.size;
  }

  /** The label the next session will have ("session N"), taken now. */
  nextLabel(): string {
    return `session ${++this.#counter}`;
  }

  /**
   * Serves `conn` as a session whose client proves itself with `authenticate`;
   * resolves when it ends (never rejects: a client only ever loses its own session).
   */
  serve(
    conn: PeerConnection,
    authenticate: (credential: Uint8Array) => boolean,
    label: string = this.nextLabel(),
  ): Promise<void> {
    this.#conns.set(label, conn);
    const session = serveConnection(conn, {
      ...this.#options,
      authenticate,
      label,
      onPaths: (paths: SessionPaths, label: string) => {
        // Closing the session's connection over all paths closes a punched direct path too.
        if (this.#conns.has(label)) this.#conns.set(label, paths.conn);
        this.#options.onPaths?.(paths, label);
      },
    });
    this.#active.add(session);
    session.finally(() => {
      this.#active.delete(session);
      this.#conns.delete(label);
    });
    return session;
  }

  /**
   * Closes every running session's connection with `info` (the code and
   * reason its client is told, e.g. the server shutting down). Returns how
   * many it closed.
   */
  closeAll(info: CloseInfo): number {
    const conns = [...this.#conns.values()];
    for (const conn of conns) conn.close(info);
    return conns.length;
  }

  /** Resolves once every session served so far has ended. */
  async drained(): Promise<void> {
    while (this.#active.size > 0) await Promise.all(this.#active);
  }
}
