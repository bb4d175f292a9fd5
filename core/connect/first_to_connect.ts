/**
 * Happy eyeballs for peer connections: every way to reach a peer is tried at
 * once, the first that authenticates is used, and the others are closed as
 * they finish. (Staggering is not needed: each attempt is a QUIC handshake
 * pinned to one key, so a "winner" is always the right peer.)
 * @module
 */
import type { PeerConnection } from "../transport/mod.ts";

/** A connection and how it was reached. */
export interface LabeledConnection {
  /** The connection. */
  conn: PeerConnection;
  /** How it was reached, for the user. */
  label: string;
}

/** One way to reach the peer. */
export interface ConnectAttempt {
  /** How the winner is described to the user ("relay https://…", "127.0.0.1:7000"). */
  label: string;
  /**
   * Makes the connection. An attempt that itself chose among paths (a lookup
   * followed by its own race) returns its winner's label with it. `signal`
   * aborts once another attempt has won: stop early there.
   */
  connect(signal: AbortSignal): Promise<PeerConnection | LabeledConnection>;
}

/** Thrown when every attempt failed; `failures` says how each did. */
export class AllAttemptsFailedError extends Error {
  /** Each attempt's label and error, in the order given. */
  readonly failures: { label: string; error: unknown }[];

  /**
   * Builds the error.
   * @param failures each attempt's label and error
   */
  constructor(failures: { label: string; error: unknown }[]) {
    super(
      failures.length === 1
        ? (failures[0].error as Error)?.message ?? String(failures[0].error)
        : `Cannot reach the server by any path: ${
          failures.map((f) => `${f.label}: ${(f.error as Error)?.message ?? f.error}`).join("; ")
        }`,
    );
    this.name = "AllAttemptsFailedError";
    this.failures = failures;
  }
}

/**
 * Runs every attempt at once and resolves with the first connection and its
 * label; later successes are closed. When `signal` aborts (a race this one is
 * part of was won elsewhere), every attempt hears it.
 * @throws {AllAttemptsFailedError} when all fail (a single failure keeps its message).
 */
export function firstToConnect(
  attempts: ConnectAttempt[],
  signal?: AbortSignal,
): Promise<LabeledConnection> {
  return new Promise((resolve, reject) => {
    const failures: { label: string; error: unknown }[] = new Array(attempts.length);
    let pending = attempts.length;
    let won = false;
    const losers = new AbortController();
    if (pending === 0) return reject(new AllAttemptsFailedError([]));
    if (signal?.aborted) losers.abort(signal.reason);
    else signal?.addEventListener("abort", () => losers.abort(signal.reason), { once: true });
    attempts.forEach((attempt, index) => {
      attempt.connect(losers.signal).then((result) => {
        const labeled = "conn" in result ? result : { conn: result, label: attempt.label };
        if (won) return labeled.conn.close({ code: 0, reason: "another path was faster" });
        won = true;
        losers.abort();
        resolve(labeled);
      }, (error) => {
        failures[index] = { label: attempt.label, error };
        if (--pending === 0 && !won) reject(new AllAttemptsFailedError(failures));
      });
    });
  });
}
