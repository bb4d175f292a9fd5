/**
 * One relay's liveness decisions (sans-IO; {@linkcode NostrRelaySet} does the
 * I/O): a subscription that gets no EOSE in time is asked again and then the
 * connection is made anew; a relay that says `rate-limited` (in OK, CLOSED or
 * NOTICE) gets nothing from us for a pause that doubles while it keeps saying
 * so; each kind of trouble is reported once per relay, the repeats left to
 * debug lines.
 * @module
 */

/** How long a REQ may wait for its EOSE before it is sent again. */
export const EOSE_TIMEOUT_MS = 4_000;
/** REQs sent on one connection without an EOSE before the connection is made anew. */
export const MAX_REQ_ATTEMPTS = 3;
/** First pause after a relay says `rate-limited`. */
export const RATE_LIMIT_FIRST_PAUSE_MS = 5_000;
/** Longest pause: a relay that keeps limiting us is tried once a minute. */
export const RATE_LIMIT_MAX_PAUSE_MS = 60_000;

/** What a relay's refusal means for us. */
export type RefusalKind = "rate-limited" | "other";

/**
 * The kind of a relay's refusal text: NIP-01's machine-readable prefix
 * `rate-limited:` (in OK and CLOSED), or, in a NOTICE (free text by the
 * specification), any mention of a rate limit.
 */
export function refusalKind(text: unknown): RefusalKind {
  if (typeof text !== "string") return "other";
  return /^rate-limited:/.test(text) || /\brate[- ]?limit/i.test(text) ? "rate-limited" : "other";
}

/** What to do about a subscription that got no EOSE in time. */
export type MissedEoseAction = "resend" | "reconnect";

/** The decisions about one relay (one per relay, kept across its connections). */
export class RelayHealth {
  #reqAttempts = 0;
  #pauseMs = 0;
  #pausedUntilMs = 0;
  readonly #reported = new Set<string>();

  /** A REQ went out on the current connection. */
  subscribed(): void {
    this.#reqAttempts++;
  }

  /** The subscription reached EOSE: later misses start counting again. */
  eose(): void {
    this.#reqAttempts = 0;
  }

  /** A new connection: its REQs are counted from zero. */
  connected(): void {
    this.#reqAttempts = 0;
  }

  /** No EOSE within {@linkcode EOSE_TIMEOUT_MS} of the last REQ: ask again, or reconnect. */
  eoseMissed(): MissedEoseAction {
    return this.#reqAttempts >= MAX_REQ_ATTEMPTS ? "reconnect" : "resend";
  }

  /**
   * The relay said `rate-limited`: nothing goes to it until the returned time
   * (ms, on `nowMs`'s clock). A refusal while paused (an answer to something
   * sent before) does not lengthen the pause; one after it doubles the next
   * pause, up to {@linkcode RATE_LIMIT_MAX_PAUSE_MS}.
   */
  rateLimited(nowMs: number): number {
    if (nowMs < this.#pausedUntilMs) return this.#pausedUntilMs;
    this.#pauseMs = this.#pauseMs === 0
      ? RATE_LIMIT_FIRST_PAUSE_MS
      : Math.min(this.#pauseMs * 2, RATE_LIMIT_MAX_PAUSE_MS);
    this.#pausedUntilMs = nowMs + this.#pauseMs;
    return this.#pausedUntilMs;
  }

  /** The relay took one of our events: the next rate limit starts from the first pause again. */
  accepted(nowMs: number): void {
    if (nowMs >= this.#pausedUntilMs) this.#pauseMs = 0;
  }

  /** Whether events must wait now. */
  paused(nowMs: number): boolean {
    return nowMs < this.#pausedUntilMs;
  }

  /** True the first time `trouble` is reported for this relay: say it then, not per event. */
  firstReport(trouble: string): boolean {
    if (this.#reported.has(trouble)) return false;
    this.#reported.add(trouble);
    return true;
  }
}
