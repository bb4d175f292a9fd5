/**
 * What a reconnecting client (iroh mode, VPN mode) prints: one line when the
 * session is lost, failed attempts summarised, one line when it is back.
 * @module
 */
import { RepeatedLines, type TunnelLog } from "../tunnel/mod.ts";

/**
 * How often failed reconnect attempts are summarised. A minute: at the longest
 * backoff (30 s) a long outage then prints about one line a minute, not one per
 * attempt.
 */
const ATTEMPT_SUMMARY_MS = 60_000;

/** The lines of one client's reconnects. */
export class ReconnectLines {
  /**
   * Where an attempt logs: its own warnings (a server address that does not
   * resolve) would repeat on every attempt, so only its summary line is printed.
   */
  readonly attemptLog: TunnelLog;
  readonly #out: TunnelLog;
  readonly #serverId: string;
  readonly #failures: RepeatedLines;

  /** Lines about the server `serverId`, to `out`. */
  constructor(out: TunnelLog, serverId: string) {
    this.#out = out;
    this.#serverId = serverId;
    this.#failures = new RepeatedLines((line) => out.warn(line), ATTEMPT_SUMMARY_MS);
    this.attemptLog = {
      info: (line) => out.info(line),
      debug: (line) => out.debug(line),
      warn: (line) => out.debug(line),
    };
  }

  /** The session was lost. */
  lost(reason: string): void {
    this.#out.warn(`Connection to the server lost: ${reason}; reconnecting`);
  }

  /** An attempt failed; the next is in `retryInMs`. */
  attemptFailed(error: unknown, attempt: number, retryInMs: number): void {
    this.#failures.report(
      "attempt",
      `reconnect attempt ${attempt} failed: ${(error as Error).message}; next in ${
        Math.round(retryInMs / 1000)
      } s`,
    );
  }

  /** The session is back, reached `where`, after `attempts` over `downMs`. */
  restored(where: string, attempts: number, downMs: number): void {
    this.#failures.close();
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    this.#out.info(
      `Reconnected to server ${this.#serverId} ${where} after ${
        (downMs / 1000).toFixed(1)
      } s (${tries})`,
    );
  }
}
