/**
 * What a client that keeps trying (iroh mode, VPN mode) prints: one line when
 * the session is lost, one line per change in why attempts fail (not one per
 * attempt), one line when it is back. Causes are said briefly (one path at
 * length, the others counted), so a line stays short however many paths failed.
 * @module
 */
import type { TunnelLog } from "../tunnel/mod.ts";
import { describeConnectFailure } from "./connect_failure.ts";

/** The lines of one client's first connect and reconnects. */
export class ReconnectLines {
  /**
   * Where an attempt logs: its own warnings (a server address that does not
   * resolve) would repeat on every attempt, so only its summary line is printed.
   */
  readonly attemptLog: TunnelLog;
  readonly #out: TunnelLog;
  readonly #serverId: string;
  /** The cause last printed; attempts failing alike print nothing more. */
  #lastCause: string | undefined;

  /** Lines about the server `serverId`, to `out`. */
  constructor(out: TunnelLog, serverId: string) {
    this.#out = out;
    this.#serverId = serverId;
    this.attemptLog = {
      info: (line) => out.info(line),
      debug: (line) => out.debug(line),
      warn: (line) => out.debug(line),
    };
  }

  /** The session was lost. */
  lost(reason: string): void {
    this.#lastCause = undefined;
    this.#out.warn(`Connection to the server lost: ${reason}; reconnecting`);
  }

  /** The first connect's attempt failed; the next is in `retryInMs`. */
  notYet(error: unknown, retryInMs: number): void {
    this.#onCause(
      error,
      (cause) =>
        `Cannot connect to server ${this.#serverId} yet: ${cause}; retrying with backoff (next in ${
          seconds(retryInMs)
        })`,
    );
  }

  /** A reconnect attempt failed; the next is in `retryInMs`. */
  attemptFailed(error: unknown, attempt: number, retryInMs: number): void {
    this.#onCause(
      error,
      (cause) => `reconnect attempt ${attempt} failed: ${cause}; next in ${seconds(retryInMs)}`,
    );
  }

  /** The session is back, reached `where`, after `attempts` over `downMs`. */
  restored(where: string, attempts: number, downMs: number): void {
    this.#lastCause = undefined;
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    this.#out.info(
      `Reconnected to server ${this.#serverId} ${where} after ${
        (downMs / 1000).toFixed(1)
      } s (${tries})`,
    );
  }

  #onCause(error: unknown, line: (cause: string) => string): void {
    const cause = describeConnectFailure(error);
    if (cause === this.#lastCause) {
      this.#out.debug(line(cause));
      return;
    }
    this.#lastCause = cause;
    this.#out.warn(line(cause));
  }
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))} s`;
}
