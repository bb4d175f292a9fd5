/**
 * Whether a session's peer is still there, told apart from whether our own
 * link to it is (sans-IO: time, answers and link changes are passed in).
 *
 * A peer is dead when no path of the session has answered for
 * {@linkcode PEER_SILENCE_MS} while this side's link to it is up (a direct
 * path, or a relay connection of ours). While our link is down nothing is
 * judged, and once it is back the peer has a grace as long as the outage was
 * before the count starts again: the peer reconnects to the relay by its own
 * backoff, and QUIC's retransmission timer, which doubled all through the
 * outage, fires next about as long after the outage as the outage lasted. The
 * grace ends early with the answer to a probe sent since the link came back
 * (other answers may be the peer's retransmissions, arriving while ours still
 * wait for that timer). Past
 * {@linkcode LINK_OUTAGE_LIMIT_MS} of one outage, or
 * {@linkcode ANSWER_LIMIT_MS} without any answer at all, the session is given
 * up whatever the link says.
 * @module
 */

/**
 * A peer silent this long while our link is up is gone: five probe intervals
 * (core/tunnel/path_channel.ts pings every second, and either side's ping or
 * pong counts), so a few lost probes are not taken for death, while a peer
 * killed just after its last answer is noticed within 6 s (judged every
 * 250 ms), before the 6 s idle timeout of direct QUIC would say it less
 * clearly.
 */
export const PEER_SILENCE_MS = 5_000;
/** One outage of our link longer than this ends the session. */
export const LINK_OUTAGE_LIMIT_MS = 30_000;
/**
 * No answer at all for this long ends the session, outage or not (a link that
 * flaps cannot hold a silent session forever). Below the QUIC idle timeout of
 * relayed connections, so this rule, which can say why, comes first.
 */
export const ANSWER_LIMIT_MS = 40_000;

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
  #linkUp = true;
  /** When the current outage began (while the link is down). */
  #downAt = 0;
  /** Silence before this does not count: the grace after an outage. */
  #graceUntil = -Infinity;
  /** When the link last came back. */
  #upAt = -Infinity;

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

  /**
   * A path answered at `now`: the peer's probe, a new path joining, or (with
   * `rttMs`) the answer to our probe sent `rttMs` before. A grace under way
   * goes on, for an answer right after an outage may be the peer's
   * retransmission while our side of the connection is still stuck; it ends
   * with the answer to a probe sent since the link came back, which crossed
   * both ways.
   */
  heard(now: number, rttMs?: number): void {
    this.#heardAt = Math.max(this.#heardAt, now);
    if (rttMs !== undefined && now - rttMs >= this.#upAt) this.#graceUntil = -Infinity;
  }

  /** This side's link to the peer went down (`up` false) or came back, at `now`. */
  linkChanged(up: boolean, now: number): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    if (!up) {
      this.#downAt = now;
      return;
    }
    // As long again as the outage lasted, for the peer and QUIC to come back.
    this.#upAt = now;
    const downMs = Math.max(0, now - this.#downAt);
    this.#graceUntil = Math.max(this.#graceUntil, now + downMs);
  }

  /**
   * Why the peer counts as gone at `now`, or `undefined` while it may still be
   * there.
   */
  check(now: number): string | undefined {
    const { silenceMs, outageMs, answerMs } = this.#limits;
    if (now - this.#heardAt > answerMs) return `no answer for ${seconds(answerMs)}`;
    if (!this.#linkUp) {
      // An answer during the outage (through another link) restarts its count.
      const outage = now - Math.max(this.#downAt, this.#heardAt);
      return outage > outageMs ? `no link to the peer for ${seconds(outageMs)}` : undefined;
    }
    const countedFrom = Math.max(this.#heardAt, this.#graceUntil);
    if (now - countedFrom > silenceMs) return `no answer for ${seconds(silenceMs)}`;
    return undefined;
  }
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
