/**
 * An iroh-mode client's session made again whenever it is lost (forwarding
 * and VPN alike): the follower told, one line when it is lost, one per change
 * in why attempts fail, one line when it is back; a failure trying again
 * cannot fix ends it.
 * @module
 */
import { Reconnector } from "../connect/mod.ts";
import type { ServerSession } from "./connect_server.ts";
import { CloseCode } from "../transport/mod.ts";
import { SESSION_WAIT_MS, type TunnelLog } from "../tunnel/mod.ts";
import { ReconnectLines } from "./reconnect_lines.ts";
import type { SessionFollower } from "./session_follower.ts";

/** What a client's reconnects need, for sessions of type `T` (a session, a VPN link over one). */
export interface FollowedReconnectOptions<T> {
  /** The server, for the lines. */
  serverId: string;
  /** Where the lines go. */
  out: TunnelLog;
  /** The error to stop with when trying again cannot help (a refusal, a wrong key), else undefined. */
  giveUp(error: unknown): Error | undefined;
  /** Follows each session made. */
  follower: SessionFollower;
  /** Makes a session; `log` is the attempt's (its own warnings stay at debug). */
  connect(log: TunnelLog): Promise<T>;
  /** The server session `session` runs on. */
  found(session: T): ServerSession;
  /** Closes what `session` holds beyond its connection (a VPN link). */
  release?(session: T): void;
  /** Told when the session is lost, after the follower. */
  onLost?(): void;
  /** Takes a restored session into use (by default the follower adopts it). */
  restore?(session: T): void;
}

/** Reconnects from `first` on, following each session; see the module documentation. */
export function followReconnects<T>(
  first: T,
  options: FollowedReconnectOptions<T>,
): Reconnector<T> {
  // An outage at the longest backoff still prints about one line a minute.
  const lines = new ReconnectLines(options.out, options.serverId);
  const conn = (session: T) => options.found(session).session.conn;
  return new Reconnector<T>(first, {
    connect: () => options.connect(lines.attemptLog),
    lost: (session) => conn(session).closed.then((info) => info.reason),
    close: (session, reason) => {
      options.release?.(session);
      conn(session).close({ code: CloseCode.Done, reason });
    },
    giveUp: (error) => options.giveUp(error),
    waitMs: SESSION_WAIT_MS,
    onLost: (reason) => {
      options.follower.lost();
      options.onLost?.();
      lines.lost(reason);
    },
    onAttemptFailed: (error, attempt, retryInMs) => lines.attemptFailed(error, attempt, retryInMs),
    onRestored: (session, attempts, downMs) => {
      lines.restored(options.found(session).where, attempts, downMs);
      if (options.restore) options.restore(session);
      else options.follower.adopt(options.found(session));
    },
  });
}
