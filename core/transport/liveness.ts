/**
 * Whether a session's peer is still there, told apart from whether our own
 * link to it is (sans-IO: time, answers and link changes are passed in).
 *
 * A peer is dead when no path of the session has answered for
 * {@linkcode PEER_SILENCE_MS} of time during which this side's link to it was
 * up (a direct path, or a relay connection of ours). Time while our link is
 * down does not count, nor as much time again once it is back: the peer
 * reconnects to the relay by its own backoff, and QUIC's retransmission timer,
 * which doubled all through the outage, fires next about as long after the
 * outage as the outage lasted. Past {@linkcode LINK_OUTAGE_LIMIT_MS} of one
 * outage, or {@linkcode ANSWER_LIMIT_MS} without any answer at all, the
 * session is given up whatever the link says.
 * @module
 */

/** A peer silent this long while our link is up is gone (the QUIC idle timeout of direct paths). */
export const PEER_SILENCE_MS = 6_000;
/** One outage of our link longer than this ends the session. */
export const LINK_OUTAGE_LIMIT_MS = 30_000;
/**
 * No answer at all for this long ends the session, outage or not (a link that
 * flaps cannot hold a silent session forever). Below the QUIC idle timeout of
 * relayed connections, so this rule, which can say why, comes first.
 */
export const ANSWER_LIMIT_MS = 36_000;

/** The bounds of a {@linkcode Liveness} (tests shrink them). */
export interface LivenessLimits {
  /** Default {@linkcode PEER_SILENCE_MS}. */
  silenceMs: number;
  /** Default {@linkcode LINK_OUTAGE_LIMIT_MS}. */
  outageMs: number;
  /** Default {@linkcode ANSWER_LIMIT_MS}. */
  answerMs: number;
}

/** What a session's liveness is fed and what it decides, with time (ms) passed in. */
export class Liveness {
  readonly #limits: LivenessLimits;
  /** When a path last answered (or the session began). */
  #heardAt: number;
  /** Silence since `#heardAt` that does not count: outages, and as much again after each. */
  #excusedMs = 0;
  #linkUp = true;
  /** When the current outage began (while the link is down). */
  #downAt = 0;

  /**
   * Starts as if the peer had just answered, with the link up.
   * @param now the clock's reading now
   */
  constructor(now: number, limits: Partial<LivenessLimits> = {}) {
    this.#heardAt = now;
    this.#limits = {
      silenceMs: limits.silenceMs ?? PEER_SILENCE_MS,
      outageMs: limits.outageMs ?? LINK_OUTAGE_LIMIT_MS,
      answerMs: limits.answerMs ?? ANSWER_LIMIT_MS,
    };
  }

  /** Whether this side's link to the peer is up (as last told). */
  get linkUp(): boolean {
    return this.#linkUp;
  }

  /** A path answered (a probe, its pong, a new path joining) at `now`. */
  heard(now: number): void {
    if (now < this.#heardAt) return;
    this.#heardAt = now;
    this.#excusedMs = 0;
    // An outage still going on counts from here on.
    if (!this.#linkUp) this.#downAt = now;
  }

  /** This side's link to the peer went down (`up` false) or came back, at `now`. */
  linkChanged(up: boolean, now: number): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    if (!up) {
      this.#downAt = now;
      return;
    }
    // `heard` moved the outage's start to the last answer, if one came during it.
    const downMs = Math.max(0, now - this.#downAt);
    // The outage itself, and as long again for the peer and QUIC to come back.
    this.#excusedMs += 2 * downMs;
  }

  /**
   * Why the peer counts as gone at `now`, or `undefined` while it may still be
   * there.
   */
  check(now: number): string | undefined {
    const { silenceMs, outageMs, answerMs } = this.#limits;
    const silentMs = now - this.#heardAt;
    if (silentMs > answerMs) return `no answer for ${seconds(answerMs)}`;
    if (!this.#linkUp) {
      if (now - this.#downAt > outageMs) return `no link to the peer for ${seconds(outageMs)}`;
      return undefined;
    }
    if (silentMs - this.#excusedMs > silenceMs) return `no answer for ${seconds(silenceMs)}`;
    return undefined;
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
