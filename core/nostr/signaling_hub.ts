/**
 * nostr mode's signaling over a set of relays: sessions told apart by id,
 * each message taken once (replays and strangers dropped by openSignal and
 * ReplayGuard), and every message republished until the peer's next one
 * arrives, since relays pass kind 24242 only to subscriptions open at that
 * moment and never store it: copies thin out and stop
 * ({@linkcode republishDelayMs}), so a peer that is gone does not make us
 * flood the relays. A session's messages become a
 * {@linkcode SignalingChannel} for the ICE code manual mode uses.
 *
 * Every wait has a bound: a client whose request gets no offer gives up after
 * {@linkcode OFFER_TIMEOUT_MS} ({@linkcode NoOfferError}); a server whose
 * offer gets no answer gives the session up after {@linkcode ANSWER_TIMEOUT_MS}.
 * The replay guard lives in memory, so a restarted server would take a
 * replayed request again: a request made before the hub started is ignored
 * (a live client re-seals each copy of its request, so its next copy gets
 * through).
 * @module
 */
import type { IceAnswer, IceOffer, SignalingChannel } from "../connect/mod.ts";
import { AsyncQueue, deadline, DeadlineError } from "../transport/mod.ts";
import { EndpointId } from "../identity/mod.ts";
import { formatIceParameters, parseIceParameters, type RemoteIceParameters } from "../nat/mod.ts";
import type { NostrPublicKey, NostrSecretKey } from "./keys.ts";
import { REPUBLISH_FIRST_MS, republishDelayMs } from "./republish_schedule.ts";
import {
  newSessionId,
  type NostrEvent,
  openSignal,
  ReplayGuard,
  sealSignal,
  type SignalMessage,
} from "./signal_event.ts";

/**
 * The peer's ICE parameters from a message, checked line by line (the event
 * was signed by the peer, but its content is still input).
 * @throws {TypeError} naming what is wrong.
 */
function parseIce(text: string): RemoteIceParameters {
  return parseIceParameters(text.split("\n"));
}

/**
 * How long the server waits for the client's answer to its offer. A live client
 * answers once it has gathered (3 s at most for a silent STUN server), and its
 * copies go out at 0, 2 and 6 s: a lost copy or two still fit. Past it the
 * request is taken for a replay or a client gone: the offer is no longer
 * published and the session slot is freed.
 */
export const ANSWER_TIMEOUT_MS = 15_000;

/**
 * How long a client waits for the server's offer (or refusal) to its request.
 * The request's copies go out at 0, 2, 6, 14 and 22 s, so a server started
 * up to ~20 s after the client, or a relay that drops a copy, still answers
 * in time; past it the server is taken for absent (down, another key, or no
 * shared relay).
 */
export const OFFER_TIMEOUT_MS = 30_000;

/** The client's request got neither an offer nor a refusal in time. */
export class NoOfferError extends Error {
  /** The wait that ran out, in ms. */
  readonly timeoutMs: number;

  /**
   * Says how long was waited.
   * @param timeoutMs the wait that ran out
   */
  constructor(timeoutMs: number) {
    super(`no offer from the server within ${timeoutMs / 1000} s`);
    this.timeoutMs = timeoutMs;
    this.name = "NoOfferError";
  }
}

/** What the hub publishes through and hears from (a NostrRelaySet, or a fake in tests). */
export interface EventBus {
  /**
   * Sends an event to every relay; `copyOf` names the message it is a copy
   * of (copies of one message may replace each other while they wait).
   */
  publish(event: NostrEvent, copyOf?: string): void;
}

/** Options of {@linkcode SignalingHub}. */
export interface SignalingHubOptions {
  /** Our static key. */
  secret: NostrSecretKey;
  /** The only key we take messages from. */
  peer: NostrPublicKey;
  /** Where events go. */
  bus: EventBus;
  /** Why events were ignored, for `-v`. */
  log?: { debug(line: string): void };
  /**
   * Requests created before this (ms since the epoch) are ignored: they were
   * made for an earlier process, which may have answered them already.
   * Default: when the hub is made.
   */
  startedMs?: number;
  /** Default {@linkcode ANSWER_TIMEOUT_MS}. */
  answerTimeoutMs?: number;
  /** Default {@linkcode OFFER_TIMEOUT_MS}. */
  offerTimeoutMs?: number;
}

interface SessionState {
  inbox: AsyncQueue<SignalMessage>;
  /** The next copy of the message being republished until the peer says something newer. */
  repeating?: ReturnType<typeof setTimeout>;
}

/** One peer's signaling: many sessions over one set of relays. */
export class SignalingHub {
  readonly #options: SignalingHubOptions;
  readonly #guard = new ReplayGuard();
  readonly #sessions = new Map<string, SessionState>();
  readonly #requests = new AsyncQueue<Extract<SignalMessage, { type: "request" }>>();

  /** Starts empty; feed it events with {@linkcode SignalingHub.receive}. */
  constructor(options: SignalingHubOptions) {
    this.#options = { ...options, startedMs: options.startedMs ?? Date.now() };
  }

  /** Takes an event a relay delivered. Never throws. */
  receive(event: NostrEvent): void {
    const message = openSignal(this.#options.secret, this.#options.peer, event);
    if ("ignored" in message) {
      this.#options.log?.debug(
        `nostr: event ${String(event?.id).slice(0, 8)} ignored: ${message.ignored}`,
      );
      return;
    }
    // created_at has whole seconds: a request made in the second the hub
    // started, before or after, waits for its next copy.
    if (message.type === "request" && !(event.created_at * 1000 >= this.#options.startedMs!)) {
      this.#options.log?.debug(
        `nostr: event ${
          String(event.id).slice(0, 8)
        } ignored: a request from before this server started`,
      );
      return;
    }
    if (!this.#guard.firstTime(message)) return;
    if (message.type === "request") {
      if (!this.#sessions.has(message.session)) this.#requests.push(message);
      return;
    }
    const session = this.#sessions.get(message.session);
    if (!session) return; // a session we did not start or no longer hold
    this.#stopRepeating(session);
    session.inbox.push(message);
  }

  /** Server: the next session request (null once closed). */
  nextRequest(): Promise<Extract<SignalMessage, { type: "request" }> | null> {
    return this.#requests.shift();
  }

  /** Server: refuses `session` with `reason` (published a few times: it is not answered). */
  refuse(session: string, reason: string): void {
    const message = { type: "refused", session, reason } as const;
    const publish = () =>
      this.#options.bus.publish(
        sealSignal(this.#options.secret, this.#options.peer, message),
        `${session}:refused`,
      );
    publish();
    let left = 2;
    const timer = setInterval(() => {
      publish();
      if (--left === 0) clearInterval(timer);
    }, REPUBLISH_FIRST_MS);
    Deno.unrefTimer(timer);
  }

  /**
   * Client: asks for a session for `source` (republishing until the server
   * says something) and returns its channel, on which the server's offer
   * comes first.
   */
  request(source: string): { session: string; channel: SignalingChannel<IceOffer, IceAnswer> } {
    const session = newSessionId();
    const state = this.#open(session);
    this.#repeat(state, { type: "request", session, source });
    return { session, channel: this.#clientChannel(session, state) };
  }

  /** Server: the channel of a requested session, on which it speaks first. */
  accept(session: string): SignalingChannel<IceAnswer, IceOffer> {
    const state = this.#open(session);
    return {
      send: (answer) =>
        Promise.resolve(this.#repeat(state, {
          type: "offer",
          session,
          ice: formatIceParameters(answer.ice).join("\n"),
          serverId: answer.serverId.toString(),
        })),
      receive: async () => {
        const timeoutMs = this.#options.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
        let message: SignalMessage;
        try {
          message = await deadline(
            this.#next(state, "the client"),
            timeoutMs,
            `the client did not answer within ${timeoutMs / 1000} s`,
          );
        } catch (error) {
          // Given up: no more copies of the offer, whoever ends the session.
          this.end(session);
          throw error;
        }
        if (message.type !== "answer") throw new Error(`expected an answer, got ${message.type}`);
        return { ice: parseIce(message.ice) };
      },
    };
  }

  /** Forgets `session` (connected or given up). */
  end(session: string): void {
    const state = this.#sessions.get(session);
    if (!state) return;
    this.#stopRepeating(state);
    state.inbox.end();
    this.#sessions.delete(session);
  }

  /** Ends everything. */
  close(): void {
    for (const session of [...this.#sessions.keys()]) this.end(session);
    this.#requests.end();
  }

  #clientChannel(session: string, state: SessionState): SignalingChannel<IceOffer, IceAnswer> {
    return {
      send: (offer) =>
        Promise.resolve(this.#repeat(state, {
          type: "answer",
          session,
          ice: formatIceParameters(offer.ice).join("\n"),
        })),
      receive: async () => {
        const timeoutMs = this.#options.offerTimeoutMs ?? OFFER_TIMEOUT_MS;
        let message: SignalMessage;
        try {
          message = await deadline(this.#next(state, "the server"), timeoutMs, "no offer");
        } catch (error) {
          if (!(error instanceof DeadlineError)) throw error;
          // Given up: no more copies of the request.
          this.end(session);
          throw new NoOfferError(timeoutMs);
        }
        if (message.type === "refused") throw new Error(`the server refused: ${message.reason}`);
        if (message.type !== "offer") throw new Error(`expected an offer, got ${message.type}`);
        return { ice: parseIce(message.ice), serverId: EndpointId.parse(message.serverId) };
      },
    };
  }

  #open(session: string): SessionState {
    const state = { inbox: new AsyncQueue<SignalMessage>() };
    this.#sessions.set(session, state);
    return state;
  }

  async #next(state: SessionState, who: string): Promise<SignalMessage> {
    const message = await state.inbox.shift();
    if (!message) throw new Error(`signaling ended before ${who} answered`);
    return message;
  }

  /** Publishes `message` now and again on {@linkcode republishDelayMs}'s schedule, each copy sealed afresh. */
  #repeat(state: SessionState, message: SignalMessage): void {
    this.#stopRepeating(state);
    let sent = 0;
    const publish = () => {
      this.#options.bus.publish(
        sealSignal(this.#options.secret, this.#options.peer, message),
        `${message.session}:${message.type}`,
      );
      const wait = republishDelayMs(++sent);
      if (wait === undefined) return (state.repeating = undefined);
      state.repeating = setTimeout(publish, wait);
      Deno.unrefTimer(state.repeating);
    };
    publish();
  }

  #stopRepeating(state: SessionState): void {
    clearTimeout(state.repeating);
    state.repeating = undefined;
  }
}
