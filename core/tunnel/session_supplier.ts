/**
 * Where the client's forwarding loops get the session for each new local
 * connection or datagram: one fixed session (manual mode, `--no-reconnect`),
 * or whichever session a reconnecting client holds at the moment.
 * @module
 */
import { CloseCode } from "../transport/mod.ts";
import type { ClientSession } from "./client_session.ts";

/**
 * How long a local TCP connection that arrives while the client has no session
 * (it is reconnecting) waits for the next one before it is closed. 10 s covers
 * a server that restarts (a second or two to start, and the first retry waits
 * at most 1 s), and stays below the connect timeouts of common clients (ssh's
 * is often set to 10-30 s), so they see a closed connection rather than their
 * own timeout.
 */
export const SESSION_WAIT_MS = 10_000;

/** The session to forward through, now and later. */
export interface SessionSupplier {
  /**
   * The live session; while there is none, the next one, waited for up to a
   * bound (such as {@linkcode SESSION_WAIT_MS}).
   * @throws {Error} saying why there is none to use.
   */
  current(): Promise<ClientSession>;
  /** The live session, or undefined while there is none (UDP drops rather than waits). */
  peek(): ClientSession | undefined;
  /** Settles, with the reason, once no session will be supplied any more. */
  readonly ended: Promise<Error>;
  /** Ends the live session with `reason` and supplies no more (the user stops the client). */
  close(reason: string): void;
}

/**
 * Supplies `session` until its connection ends, and nothing after: the client
 * then ends (manual mode cannot reconnect; `--no-reconnect` asks not to).
 *
 * @example
 * ```ts
 * import { singleSession, type ClientSession } from "./mod.ts";
 * declare const session: ClientSession;
 * const sessions = singleSession(session);
 * const error = await sessions.ended; // "Connection to the server lost: …"
 * ```
 */
export function singleSession(session: ClientSession): SessionSupplier {
  let live = true;
  const ended = session.conn.closed.then((info) => {
    live = false;
    return new Error(`Connection to the server lost: ${info.reason || "closed"}`);
  });
  return {
    current: () =>
      live
        ? Promise.resolve(session)
        : Promise.reject(new Error("the connection to the server was lost")),
    peek: () => live ? session : undefined,
    ended,
    close(reason: string) {
      session.conn.close({ code: CloseCode.Done, reason });
    },
  };
}
