/**
 * Several Nostr relays at once, for signaling (NIP-01 over WebSocket): one
 * subscription on every relay, every event published to every relay, each
 * relay reconnected by itself with backoff and resubscribed. One dead or slow
 * relay never holds up the others. Kept small and our own: signaling needs
 * REQ, EVENT, EOSE and OK only, and has to survive connections that drop
 * without a close frame.
 * @module
 */
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

/** Where relay trouble is reported. */
export interface RelaySetLog {
  /** One line per relay connection lost or event refused. */
  debug(line: string): void;
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
  timer?: ReturnType<typeof setTimeout>;
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
    this.#relays = options.urls.map((url) => ({ url, live: false, backoffMs: 1_000 }));
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

  /** Sends `event` to every connected relay; returns how many took it on the wire. */
  publish(event: NostrEvent): number {
    const message = JSON.stringify(["EVENT", event]);
    let sent = 0;
    for (const relay of this.#relays) {
      if (relay.socket?.readyState !== WebSocket.OPEN) continue;
      try {
        relay.socket.send(message);
        sent++;
      } catch { /* closing: its handler reconnects */ }
    }
    return sent;
  }

  /** Disconnects for good. */
  close(): void {
    this.#closed = true;
    this.#live.reject(new Error("the relay set was closed"));
    for (const relay of this.#relays) {
      clearTimeout(relay.timer);
      try {
        relay.socket?.close();
      } catch { /* closed */ }
    }
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
    const now = this.#options.now ?? Date.now;
    socket.onopen = () => {
      relay.backoffMs = 1_000;
      const since = Math.floor(now() / 1000) - RESUBSCRIBE_LOOKBACK_S;
      socket.send(JSON.stringify(["REQ", this.#subscription, { ...this.#options.filter, since }]));
    };
    socket.onmessage = (message) => this.#receive(relay, message.data);
    // Deno reports a dropped connection as an error and then a close: act once, on close.
    socket.onerror = (event) => {
      relay.lastError = (event as ErrorEvent).message || "connection failed";
    };
    socket.onclose = () => {
      if (relay.socket !== socket) return;
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
    if (id !== this.#subscription && type !== "OK" && type !== "NOTICE") return;
    if (type === "EVENT" && typeof payload === "object" && payload !== null) {
      this.#options.onEvent(payload as NostrEvent, relay.url);
    } else if (type === "EOSE") {
      relay.live = true;
      this.#live.resolve();
    } else if (type === "CLOSED") {
      // The relay ended our subscription: reconnecting asks again.
      relay.lastError = `subscription closed: ${String(payload ?? "")}`.slice(0, 200);
      relay.socket?.close();
    } else if (type === "OK" && message[2] === false) {
      this.#options.log?.debug(`nostr relay ${relay.url} refused an event: ${message[3]}`);
    }
  }
}
