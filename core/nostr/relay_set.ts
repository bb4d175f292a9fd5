/**
 * Several Nostr relays at once, for signaling (NIP-01 over WebSocket): one
 * subscription on every relay, every event published to every relay, each
 * relay reconnected by itself with backoff and resubscribed. One dead or slow
 * relay never holds up the others. Kept small and our own: signaling needs
 * REQ, EVENT, EOSE, OK, CLOSED and NOTICE only, and has to survive
 * connections that drop without a close frame, REQs that get no EOSE, and
 * relays that rate-limit (the decisions are {@linkcode RelayHealth}'s).
 * @module
 */
import { EOSE_TIMEOUT_MS, refusalKind, RelayHealth } from "./relay_health.ts";
import type { NostrEvent } from "./signal_event.ts";

/** A NIP-01 filter (the fields signaling uses). */
export interface NostrFilter {
  /** Event kinds. */
  kinds?: number[];
  /** Authors' public keys, hex. */
  authors?: string[];
  /** Values of the `p` tag (the addressee). */
  "#p"?: string[];
  /** Values of the `t` tag (the transfer id). */
  "#t"?: string[];
  /** Oldest `created_at` wanted, in seconds. */
  since?: number;
}

/** Largest message taken from a relay; signaling events are a few KiB. */
export const MAX_RELAY_MESSAGE = 65_536;
/** Reconnect waits: 1 s doubling to this. */
const MAX_BACKOFF_MS = 10_000;
/** How far back a (re)subscription asks, so events sent while away are not missed. */
const RESUBSCRIBE_LOOKBACK_S = 30;
/** Events held for a rate-limiting relay (the oldest go first). */
const MAX_HELD_EVENTS = 16;
/**
 * A held event older than this is dropped rather than sent late: the peer
 * refuses events over 30 s old, and the hub publishes fresher copies anyway.
 */
const MAX_HELD_AGE_MS = 20_000;

/** Where relay trouble is reported. */
export interface RelaySetLog {
  /** One line per relay connection lost, event refused, NOTICE, REQ asked again. */
  debug(line: string): void;
  /** Trouble the user should know of (a relay rate-limiting us, closing our subscription, refusing our events): once per relay and kind. */
  info?(line: string): void;
}

/** Options of {@linkcode NostrRelaySet.open}. */
export interface RelaySetOptions {
  /** Relay URLs (`wss://…`, `ws://…`). */
  urls: string[];
  /** What to subscribe to on every relay (`since` is set on each (re)subscription). */
  filter: Omit<NostrFilter, "since">;
  /** Told each event a relay delivers for the subscription (duplicates across relays included). */
  onEvent(event: NostrEvent, relay: string): void;
  /** Relay trouble, for `-v`. */
  log?: RelaySetLog;
  /** Injected for tests. */
  now?: () => number;
}

interface RelayState {
  url: string;
  socket?: WebSocket;
  /** The subscription on the current connection has reached EOSE. */
  live: boolean;
  backoffMs: number;
  /** Wait before asking again after the relay closed our subscription (not for a rate limit). */
  resubscribeMs: number;
  /** Reconnect timer. */
  timer?: ReturnType<typeof setTimeout>;
  /** EOSE deadline of the last REQ, or a REQ waiting to be sent again. */
  reqTimer?: ReturnType<typeof setTimeout>;
  /** End of a rate-limit pause. */
  resumeTimer?: ReturnType<typeof setTimeout>;
  /** Events published while the relay had us paused, sent when the pause ends. */
  held: { message: string; atMs: number; copyOf?: string }[];
  health: RelayHealth;
  lastError?: string;
}

/** Every relay a peer signals through. */
export class NostrRelaySet {
  readonly #options: RelaySetOptions;
  readonly #relays: RelayState[];
  readonly #subscription = `tunnel-${crypto.randomUUID().slice(0, 8)}`;
  readonly #live = Promise.withResolvers<void>();
  #closed = false;

  private constructor(options: RelaySetOptions) {
    this.#options = options;
    this.#relays = options.urls.map((url) => ({
      url,
      live: false,
      backoffMs: 1_000,
      resubscribeMs: 1_000,
      held: [],
      health: new RelayHealth(),
    }));
    this.#live.promise.catch(() => {});
  }

  /**
   * Connects to every relay and subscribes.
   * @throws {TypeError} for a URL that is not ws:// or wss://.
   */
  static open(options: RelaySetOptions): NostrRelaySet {
    for (const url of options.urls) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch { /* below */ }
      if (!parsed || (parsed.protocol !== "ws:" && parsed.protocol !== "wss:")) {
        throw new TypeError(`Invalid Nostr relay URL '${url}': expected ws:// or wss://`);
      }
    }
    const set = new NostrRelaySet(options);
    for (const relay of set.#relays) set.#connect(relay);
    return set;
  }

  /** The relays whose subscription is live now. */
  get live(): string[] {
    return this.#relays.filter((r) => r.live).map((r) => r.url);
  }

  /**
   * Resolves once a relay's subscription is live (its stored events sent), so
   * what the peer publishes from now on reaches us.
   * @throws {Error} after `timeoutMs`, naming every relay tried and why it failed.
   */
  async ready(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#live.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(this.#unreachable())), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #unreachable(): string {
    const tried = this.#relays.map((r) => `${r.url} (${r.lastError ?? "no answer"})`);
    return `Cannot reach any Nostr relay: ${tried.join(", ")}`;
  }

  /**
   * Sends `event` to every connected relay; returns how many took it on the
   * wire. A relay that rate-limits us gets it when its pause ends (if still
   * fresh), not now.
   * @param copyOf names the message `event` is a copy of: a held copy of the
   * same message is replaced, so a pause's end sends one copy, not a burst
   * that the relay would refuse again.
   */
  publish(event: NostrEvent, copyOf?: string): number {
    const message = JSON.stringify(["EVENT", event]);
    const now = this.#now();
    let sent = 0;
    for (const relay of this.#relays) {
      if (relay.health.paused(now)) {
        if (copyOf !== undefined) relay.held = relay.held.filter((e) => e.copyOf !== copyOf);
        relay.held.push({ message, atMs: now, copyOf });
        if (relay.held.length > MAX_HELD_EVENTS) relay.held.shift();
        continue;
      }
      if (this.#send(relay, message)) sent++;
    }
    return sent;
  }

  /** Disconnects for good. */
  close(): void {
    this.#closed = true;
    this.#live.reject(new Error("the relay set was closed"));
    for (const relay of this.#relays) {
      clearTimeout(relay.timer);
      clearTimeout(relay.reqTimer);
      clearTimeout(relay.resumeTimer);
      relay.held = [];
      try {
        relay.socket?.close();
      } catch { /* closed */ }
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #send(relay: RelayState, message: string): boolean {
    if (relay.socket?.readyState !== WebSocket.OPEN) return false;
    try {
      relay.socket.send(message);
      return true;
    } catch {
      return false; // closing: its handler reconnects
    }
  }

  /** Says `line` at info level the first time `trouble` happens on `relay`, at debug after. */
  #report(relay: RelayState, trouble: string, line: string): void {
    const log = this.#options.log;
    if (relay.health.firstReport(trouble) && log?.info) log.info(line);
    else log?.debug(line);
  }

  /** Asks for the subscription on the current connection, and watches for its EOSE. */
  #subscribe(relay: RelayState): void {
    clearTimeout(relay.reqTimer);
    const socket = relay.socket;
    if (this.#closed || !socket) return;
    const since = Math.floor(this.#now() / 1000) - RESUBSCRIBE_LOOKBACK_S;
    if (
      !this.#send(
        relay,
        JSON.stringify(["REQ", this.#subscription, { ...this.#options.filter, since }]),
      )
    ) return;
    relay.health.subscribed();
    relay.reqTimer = setTimeout(() => this.#eoseMissed(relay, socket), EOSE_TIMEOUT_MS);
    Deno.unrefTimer(relay.reqTimer);
  }

  #eoseMissed(relay: RelayState, socket: WebSocket): void {
    if (this.#closed || relay.socket !== socket || relay.live) return;
    const log = this.#options.log;
    if (relay.health.paused(this.#now())) return; // asked again when the pause ends
    if (relay.health.eoseMissed() === "resend") {
      log?.debug(
        `nostr relay ${relay.url}: no EOSE within ${EOSE_TIMEOUT_MS / 1000} s, asking again`,
      );
      return this.#subscribe(relay);
    }
    relay.lastError = "subscription not answered";
    log?.debug(`nostr relay ${relay.url}: subscription not answered, reconnecting`);
    this.#drop(relay, socket);
  }

  /** Gives up the connection `socket` of `relay` and reconnects later. */
  #drop(relay: RelayState, socket: WebSocket): void {
    if (relay.socket !== socket) return;
    clearTimeout(relay.reqTimer);
    relay.socket = undefined;
    relay.live = false;
    try {
      socket.close();
    } catch { /* closed */ }
    this.#retry(relay);
  }

  /** The relay said `rate-limited`: hold events (and a lost subscription) until the pause ends. */
  #rateLimited(relay: RelayState, said: string): void {
    const now = this.#now();
    const wasPaused = relay.health.paused(now);
    const until = relay.health.rateLimited(now);
    const seconds = Math.round((until - now) / 1000);
    this.#report(
      relay,
      "rate-limited",
      `nostr relay ${relay.url} rate-limits us (${said}): sending it nothing for ${seconds} s, longer if it goes on`,
    );
    if (wasPaused) return;
    clearTimeout(relay.resumeTimer);
    relay.resumeTimer = setTimeout(() => this.#resume(relay), until - now);
    Deno.unrefTimer(relay.resumeTimer);
  }

  #resume(relay: RelayState): void {
    if (this.#closed) return;
    const now = this.#now();
    const held = relay.held.filter((entry) => now - entry.atMs <= MAX_HELD_AGE_MS);
    relay.held = [];
    for (const entry of held) this.#send(relay, entry.message);
    if (relay.socket && !relay.live) this.#subscribe(relay);
  }

  #connect(relay: RelayState): void {
    if (this.#closed) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(relay.url);
    } catch (error) {
      relay.lastError = (error as Error).message;
      return this.#retry(relay);
    }
    relay.socket = socket;
    socket.onopen = () => {
      relay.backoffMs = 1_000;
      relay.health.connected();
      // A relay that rate-limits us is asked when its pause ends.
      if (!relay.health.paused(this.#now())) this.#subscribe(relay);
    };
    socket.onmessage = (message) => this.#receive(relay, message.data);
    // Deno reports a dropped connection as an error and then a close: act once, on close.
    socket.onerror = (event) => {
      relay.lastError = (event as ErrorEvent).message || "connection failed";
    };
    socket.onclose = () => {
      if (relay.socket !== socket) return;
      clearTimeout(relay.reqTimer);
      relay.socket = undefined;
      relay.live = false;
      this.#options.log?.debug(`nostr relay ${relay.url}: ${relay.lastError ?? "closed"}`);
      this.#retry(relay);
    };
  }

  #retry(relay: RelayState): void {
    if (this.#closed) return;
    const wait = relay.backoffMs * (0.5 + Math.random() / 2);
    relay.backoffMs = Math.min(relay.backoffMs * 2, MAX_BACKOFF_MS);
    relay.timer = setTimeout(() => this.#connect(relay), wait);
    Deno.unrefTimer(relay.timer);
  }

  #receive(relay: RelayState, data: unknown): void {
    if (typeof data !== "string" || data.length > MAX_RELAY_MESSAGE) return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!Array.isArray(message)) return;
    const [type, id, payload] = message;
    if (type === "NOTICE") return this.#notice(relay, id);
    if (type === "OK") return this.#ok(relay, payload, message[3]);
    if (id !== this.#subscription) return;
    if (type === "EVENT" && typeof payload === "object" && payload !== null) {
      this.#options.onEvent(payload as NostrEvent, relay.url);
    } else if (type === "EOSE") {
      clearTimeout(relay.reqTimer);
      relay.health.eose();
      relay.resubscribeMs = 1_000;
      relay.live = true;
      this.#live.resolve();
    } else if (type === "CLOSED") {
      this.#subscriptionClosed(relay, payload);
    }
  }

  #notice(relay: RelayState, text: unknown): void {
    const said = String(text ?? "").slice(0, 200);
    if (refusalKind(text) === "rate-limited") return this.#rateLimited(relay, said);
    this.#options.log?.debug(`nostr relay ${relay.url} says: ${said}`);
  }

  #ok(relay: RelayState, accepted: unknown, text: unknown): void {
    const said = String(text ?? "").slice(0, 200);
    if (accepted === true) return relay.health.accepted(this.#now());
    if (refusalKind(text) === "rate-limited") return this.#rateLimited(relay, said);
    // A duplicate is an event the relay has already: nothing to say.
    if (said.startsWith("duplicate:")) return;
    this.#report(relay, "refused", `nostr relay ${relay.url} refused our event: ${said}`);
  }

  /** The relay ended our subscription: ask again on the same connection, later. */
  #subscriptionClosed(relay: RelayState, reason: unknown): void {
    clearTimeout(relay.reqTimer);
    relay.live = false;
    const said = String(reason ?? "").slice(0, 200);
    relay.lastError = `subscription closed: ${said}`;
    if (refusalKind(reason) === "rate-limited") return this.#rateLimited(relay, said);
    this.#report(
      relay,
      "closed",
      `nostr relay ${relay.url} closed our subscription (${said}): asking again in ${
        relay.resubscribeMs / 1000
      } s`,
    );
    relay.reqTimer = setTimeout(() => this.#subscribe(relay), relay.resubscribeMs);
    Deno.unrefTimer(relay.reqTimer);
    relay.resubscribeMs = Math.min(relay.resubscribeMs * 2, MAX_BACKOFF_MS);
  }
}
