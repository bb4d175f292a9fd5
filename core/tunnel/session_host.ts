/**
 * The sessions a server runs at once, whatever brought their connections (a
 * QUIC listener, a relay, an ICE path signaled over Nostr or by copy-paste):
 * each is numbered, served with the server's shared options, and waited for
 * when the server stops. Every server mode serves through one.
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";
import { serveConnection, type ServerSessionOptions } from "./server_session.ts";

/** What every session of a host shares: all of a session's options but its label and check. */
export type SessionHostOptions = Omit<ServerSessionOptions, "label" | "authenticate">;

/** Serves connections as numbered sessions. */
export class SessionHost {
  readonly #options: SessionHostOptions;
  readonly #active = new Set<Promise<void>>();
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
    const session = serveConnection(conn, { ...this.#options, authenticate, label });
    this.#active.add(session);
    session.finally(() => this.#active.delete(session));
    return session;
  }

  /** Resolves once every session served so far has ended. */
  async drained(): Promise<void> {
    while (this.#active.size > 0) await Promise.all(this.#active);
  }
}
