/**
 * When may an agent close its ICE sockets? (sans-IO state machine)
 *
 * ICE nomination is not symmetric in time: werift's controlling side counts a
 * pair as nominated when the response to its USE-CANDIDATE check arrives, the
 * controlled side only after its own triggered check on that pair succeeds.
 * A side that closes as soon as it nominates can leave the other one with
 * checks that are never answered (seen in this project: the controlled side
 * nominated at 98 ms and closed, the controlling side never completed).
 *
 * So after nominating, each side sends READY datagrams over the chosen path,
 * and the rule is: never release before hearing the peer's READY, which proves
 * the peer has completed ICE. Every READY says whether its sender has heard
 * the other side; a side is done when it has heard the peer AND knows the peer
 * heard it. Because the last message of any such exchange can be lost, a side
 * that has heard the peer but gets no acknowledgement keeps repeating for
 * `lingerMs`, then finishes anyway: the peer is known to have completed ICE,
 * and if all of those READYs were lost the path is not usable in that
 * direction, so the peer failing too is the right outcome. A short grace
 * period instead of this exchange would be simpler, but it would also let a
 * side release while the other is still checking, the very trap above.
 *
 * Replies are sent only while not done (plus a reply to any READY that says
 * "I have not heard you"), so two agents never ping-pong forever.
 *
 * @module
 */

/**
 * Repeat interval: a few per round trip on a LAN, still only ~20 datagrams/s
 * during the short window between the two nominations.
 */
const READY_INTERVAL_MS = 50;
/**
 * How long a side that heard the peer keeps repeating READY without an
 * acknowledgement: ~20 repeats ride out a burst of loss, and the QUIC client's
 * first Initial retransmission (quinn: about 1 s) still finds a listener.
 */
const READY_LINGER_MS = 1_000;

/** What to do after an event. */
export interface _ReadyStep {
  /** Send one READY now. */
  send: boolean;
  /** The flag to put in that READY: we have heard the peer. */
  heardYou: boolean;
  /** Both sides have completed ICE: the path may be handed over. */
  done: boolean;
}

/** Tuning of {@linkcode _ReadyHandshake}; tests shorten it. */
export interface _ReadyHandshakeOptions {
  intervalMs?: number;
  lingerMs?: number;
}

/** The READY exchange of one agent; feed it events with the current time, act on the steps. */
export class _ReadyHandshake {
  readonly #intervalMs: number;
  readonly #lingerMs: number;
  #readyAt: number | undefined;
  #heardAt: number | undefined;
  #peerHeardUs = false;
  #lastSentAt = -Infinity;
  #done = false;

  constructor(options: _ReadyHandshakeOptions = {}) {
    this.#intervalMs = options.intervalMs ?? READY_INTERVAL_MS;
    this.#lingerMs = options.lingerMs ?? READY_LINGER_MS;
  }

  /** A READY from the peer has arrived at least once. */
  get heardPeer(): boolean {
    return this.#heardAt !== undefined;
  }

  /** The handshake has finished. */
  get done(): boolean {
    return this.#done;
  }

  /** This side has nominated a pair and knows its path: start announcing it. */
  localReady(now: number): _ReadyStep {
    if (this.#readyAt !== undefined) return this.#step(false);
    this.#readyAt = now;
    this.#evaluate(now);
    return this.#step(true, now);
  }

  /** A READY from the peer arrived; `heardYou` is its flag. */
  received(heardYou: boolean, now: number): _ReadyStep {
    if (this.#done) {
      // The peer still has not heard us: answer, whatever state we are in.
      return this.#step(!heardYou, now);
    }
    this.#heardAt ??= now;
    if (heardYou) this.#peerHeardUs = true;
    if (this.#readyAt === undefined) return this.#step(false);
    this.#evaluate(now);
    return this.#step(true, now);
  }

  /** Timer tick: repeats READY and ends the linger. */
  tick(now: number): _ReadyStep {
    if (this.#readyAt === undefined || this.#done) return this.#step(false);
    this.#evaluate(now);
    return this.#step(!this.#done && now - this.#lastSentAt >= this.#intervalMs, now);
  }

  #evaluate(now: number): void {
    if (this.#readyAt === undefined || this.#heardAt === undefined) return;
    const since = Math.max(this.#readyAt, this.#heardAt);
    if (this.#peerHeardUs || now - since >= this.#lingerMs) this.#done = true;
  }

  #step(send: boolean, now?: number): _ReadyStep {
    if (send && now !== undefined) this.#lastSentAt = now;
    return { send, heardYou: this.heardPeer, done: this.#done };
  }
}
