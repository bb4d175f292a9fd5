/**
 * A relay client: keeps one authenticated WebSocket to a relay, sends and
 * receives datagrams by endpoint key, answers and sends pings, and reconnects
 * by itself: every 0.5-1 s for the first 30 s of an outage (the sessions through
 * it wait that long), then with backoff and jitter up to 30 s
 * (reconnect_delay.ts). While it is away, what is sent waits in a bounded queue
 * or is dropped (the QUIC above retransmits).
 *
 * Datagrams sent in one turn of the event loop (a flight of QUIC packets read
 * from the shim one after another) leave together once the turn is over, each
 * run of equal size as one batch frame: the relay then handles one message per
 * flight rather than one per packet.
 * @module
 */
import { setImmediate } from "node:timers";
import type { SecretKey } from "../identity/mod.ts";
import { DatagramBatcher, splitDatagrams } from "./datagram_batch.ts";
import {
  decodeRelayFrame,
  encodeRelayFrame,
  MAX_DATAGRAM_PAYLOAD,
  MAX_FRAME_SIZE,
  RELAY_SUBPROTOCOLS,
  type RelayFrame,
  RelayFrameError,
  type RelayProtocolVersion,
} from "./frames.ts";
import { signChallenge } from "./handshake.ts";
import { FAST_RETRY_WINDOW_MS, reconnectDelay } from "./reconnect_delay.ts";
import { replayTail } from "./replay_tail.ts";
import {
  connectWebSocket,
  type WebSocketConnection,
  type WebSocketDial,
  WebSocketUpgradeError,
} from "./websocket_client.ts";

/** The client pings a quiet relay this often (iroh's clients: 15 s). */
const PING_INTERVAL_MS = 15_000;
/** A ping unanswered this long means the connection is dead: reconnect. */
const PONG_TIMEOUT_MS = 5_000;
/** A connection that is not authenticated after this long is given up. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Datagrams kept while disconnected: a few hundred QUIC packets (a congestion
 * window's worth); older ones are dropped, QUIC resends what matters.
 */
const MAX_QUEUED = 256;
/**
 * After a reconnect, the newest datagrams queued during the outage
 * (replay_tail.ts) are sent again this long after it: the peer may be back at
 * the relay later than this client (its own retries, 0.5-1 s apart, and a busy
 * machine), and until one of them reaches it QUIC waits on a retransmission
 * timer that backed off through the outage (10 s or more after a 20 s one).
 * The last falls inside the peer's grace (as long as the outage, 10 s or more).
 */
const REPLAY_AFTER_MS = [1_000, 2_000, 4_000, 6_000, 8_000] as const;
/** Bytes waiting in the WebSocket send buffer beyond which datagrams are dropped. */
const MAX_SEND_BUFFER_BYTES = 2 << 20;

/** A datagram this client sends. */
type DatagramFrame = Extract<RelayFrame, { type: "client-to-relay-datagram" }>;

/** Where a relay client reports its state changes. */
export interface RelayClientLog {
  /** Connects, disconnects, refusals. */
  debug(message: string): void;
}

/** Options of {@linkcode RelayClient.connect}. */
export interface RelayClientOptions {
  /** `http(s)://host[:port]` (the `/relay` path is added) or `ws(s)://host[:port]/relay`. */
  url: string;
  /** The key this client authenticates with. */
  secretKey: SecretKey;
  /**
   * Sent as `Authorization: Bearer <token>` on the WebSocket upgrade, never in
   * the URL (which ends up in logs). Only for relays that require one.
   */
  accessToken?: string;
  /** Each datagram received, by source key. The payload is the caller's to keep. */
  onDatagram(source: Uint8Array, payload: Uint8Array): void;
  /** A peer this client sent to left the relay. */
  onEndpointGone?(endpoint: Uint8Array): void;
  /** Called each time the client becomes connected or loses the connection. */
  onStateChange?(connected: boolean): void;
  /** Called once when the relay refuses this client; the client then stops. */
  onRefused?(error: RelayRefusedError): void;
  /** Where state changes are reported. */
  log?: RelayClientLog;
  /**
   * Opens the TCP connection to the relay, on the first connect and every
   * reconnect (through a SOCKS5 proxy, say, given the relay's hostname
   * unresolved). Default: `Deno.connect`.
   */
  dial?: WebSocketDial;
}

/** Why the relay refused this client (it will not retry). */
export class RelayRefusedError extends Error {
  /** Always "RelayRefusedError". */
  override name = "RelayRefusedError";
  /** The relay, as the client was given it. */
  readonly url: string;
  /** The relay's reason (ServerDeniesAuth's text, or its HTTP status line). */
  readonly reason: string;
  /** Whether the client presented an access token. */
  readonly tokenPresented: boolean;
  /**
   * Whether the refusal is about access (a missing or wrong token, a key not
   * admitted) rather than capacity. The protocol carries only a free-text
   * reason, so this reads it: HTTP 401 or 403, or a reason that speaks of a
   * token, authorization or access.
   */
  readonly access: boolean;

  /** Creates the error; the message names the relay and its reason, never the token. */
  constructor(url: string, reason: string, tokenPresented: boolean, status?: number) {
    // The relay's words end up in one line of ours: no control characters, a bounded length.
    reason = [...reason].filter((c) => c >= " " && c !== "\x7f").join("").slice(0, 200);
    const access = status === 401 || status === 403 ||
      /token|auth|access|admit|forbidden|denied|not allowed/i.test(reason);
    super(
      tokenPresented && access
        ? `The relay ${url} refused the access token this client presented: ${reason}`
        : `The relay ${url} refused this client: ${reason}`,
    );
    this.url = url;
    this.reason = reason;
    this.tokenPresented = tokenPresented;
    this.access = access;
  }
}

/** One client's connection to one relay, reconnecting until closed. */
export class RelayClient {
  readonly #options: RelayClientOptions;
  readonly #url: string;
  #socket: WebSocketConnection | undefined;
  #version: RelayProtocolVersion = 2;
  #connected = false;
  #closed = false;
  #queue: DatagramFrame[] = [];
  /** When the relay was last lost (or first tried): attempts are frequent for a while after. */
  #outageSince = performance.now();
  /** Attempts failed since the frequent ones ended. */
  #slowAttempts = 0;
  /** When the relay said it was restarting: when it asked to be tried again. */
  #restartInMs: number | undefined;
  /** Whether the client was connected before (a reconnect replays, a first connect does not). */
  #wasConnected = false;
  readonly #replayTimers = new Set<ReturnType<typeof setTimeout>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #pendingPing: Uint8Array | undefined;
  /** When the relay was last heard from (`performance.now()`). */
  #heardAt = 0;
  readonly #batcher = new DatagramBatcher();
  #flushScheduled = false;
  #firstConnect: PromiseWithResolvers<void> = Promise.withResolvers();
  /** Why the last attempt failed (a proxy's refusal, say), for the error of `ready()`. */
  #lastFailure: string | undefined;
  /** Datagrams dropped because the relay was away or slow. */
  dropped = 0;
  /** Datagrams queued during an outage and sent again after it (replay_tail.ts). */
  replayed = 0;

  private constructor(options: RelayClientOptions) {
    // One word of printable ASCII: a header value that cannot end its line.
    if (options.accessToken !== undefined && !/^[\x21-\x7e]+$/.test(options.accessToken)) {
      throw new TypeError(
        "Invalid relay access token: it may hold only printable ASCII characters, without spaces",
      );
    }
    this.#options = options;
    this.#url = relayWebSocketUrl(options.url);
    this.#firstConnect.promise.catch(() => {});
  }

  /**
   * Starts connecting (and reconnecting) to the relay.
   * @throws {TypeError} when the URL is not an http(s) or ws(s) URL, or the
   *   access token is not one word of printable ASCII.
   */
  static connect(options: RelayClientOptions): RelayClient {
    const client = new RelayClient(options);
    client.#open();
    return client;
  }

  /** Whether the client is authenticated to the relay now. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Resolves once the client is first authenticated.
   * @throws {RelayRefusedError} when the relay refused it; {@linkcode Error} after `timeoutMs`.
   */
  async ready(timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#firstConnect.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `Cannot reach the relay ${this.#options.url} within ${timeoutMs / 1000} s` +
                    (this.#lastFailure ? ` (last attempt: ${this.#lastFailure})` : ""),
                ),
              ),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends `payload` to `destination` at the end of this turn of the event loop,
   * or queues it while reconnecting. The payload is copied: the caller may reuse
   * its buffer.
   */
  send(destination: Uint8Array, payload: Uint8Array): void {
    if (this.#closed || payload.length === 0 || payload.length > MAX_DATAGRAM_PAYLOAD) {
      this.dropped++;
      return;
    }
    const frame: DatagramFrame = {
      type: "client-to-relay-datagram",
      destination,
      ecn: 0,
      payload,
    };
    if (!this.#connected) {
      if (this.#queue.length >= MAX_QUEUED) {
        this.#queue.shift();
        this.dropped++;
      }
      // The caller may reuse its buffer: keep a copy.
      this.#queue.push({ ...frame, payload: payload.slice() });
      return;
    }
    if (this.#socket!.bufferedAmount > MAX_SEND_BUFFER_BYTES) {
      this.dropped++;
      return;
    }
    const full = this.#batcher.add(destination, payload);
    if (full) this.#sendMessage(full);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the I/O of this turn: the rest of a flight joins the batch first.
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const frame = this.#batcher.flush();
    if (frame) this.#sendMessage(frame);
  };

  /** Disconnects for good. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#retryTimer);
    this.#cancelReplays();
    this.#queue = [];
    this.#firstConnect.reject(new Error("the relay client was closed"));
    try {
      this.#socket?.close();
    } catch { /* closed */ }
    this.#setConnected(false);
  }

  async #open(): Promise<void> {
    if (this.#closed) return;
    let challenged = false;
    let socket: WebSocketConnection;
    const handle = (message: Uint8Array) => {
      let frame: RelayFrame;
      try {
        frame = decodeRelayFrame(message, this.#version);
      } catch (error) {
        if (!(error instanceof RelayFrameError)) throw error;
        this.#options.log?.debug(`relay ${this.#options.url}: ${error.message}`);
        return socket.close();
      }
      if (!this.#connected) {
        if (frame.type === "server-challenge" && !challenged) {
          challenged = true;
          this.#send(signChallenge(this.#options.secretKey, frame.challenge));
          return;
        }
        if (frame.type === "server-confirms-auth") return this.#authenticated();
        if (frame.type === "server-denies-auth") {
          this.#refused(frame.reason);
          return socket.close();
        }
        return socket.close();
      }
      this.#heardAt = performance.now();
      switch (frame.type) {
        case "relay-to-client-datagram":
          if (frame.segmentSize === undefined) {
            this.#options.onDatagram(frame.source, frame.payload);
            return;
          }
          for (const datagram of splitDatagrams(frame.payload, frame.segmentSize)) {
            this.#options.onDatagram(frame.source, datagram);
          }
          return;
        case "ping":
          this.#send({ type: "pong", data: frame.data });
          return;
        case "pong":
          if (this.#pendingPing && frame.data.every((b, i) => b === this.#pendingPing![i])) {
            this.#pendingPing = undefined;
          }
          return;
        case "endpoint-gone":
          this.#options.onEndpointGone?.(frame.endpoint);
          return;
        case "restarting":
          // The relay said when to come back: honour it instead of backing off.
          this.#restartInMs = frame.reconnectInMs;
          return;
        default:
          // Health and Status are informational.
          this.#options.log?.debug(`relay ${this.#options.url}: ${frame.type}`);
      }
    };
    const token = this.#options.accessToken;
    try {
      socket = await connectWebSocket(this.#url, {
        protocols: [RELAY_SUBPROTOCOLS[2], RELAY_SUBPROTOCOLS[1]],
        headers: token ? { authorization: `Bearer ${token}` } : undefined,
        maxMessage: MAX_FRAME_SIZE,
        dial: this.#options.dial,
        onMessage: handle,
        onClose: (reason) => {
          this.#options.log?.debug(`relay ${this.#options.url}: ${reason}`);
          this.#lost();
        },
      });
    } catch (error) {
      this.#lastFailure = (error as Error).message;
      this.#options.log?.debug(this.#lastFailure);
      const upgrade = (error as Error).cause;
      // A relay that wants credentials (or other ones) says so once: retrying cannot help.
      if (
        upgrade instanceof WebSocketUpgradeError &&
        (upgrade.status === 401 || upgrade.status === 403)
      ) {
        return this.#refused(
          `HTTP ${upgrade.statusText}`,
          upgrade.status,
        );
      }
      return this.#retry();
    }
    if (this.#closed) return socket.close();
    this.#socket = socket;
    this.#version = socket.protocol === RELAY_SUBPROTOCOLS[1] ? 1 : 2;
    this.#arm(CONNECT_TIMEOUT_MS, () => socket.close());
    socket.start();
  }

  /** The relay refused us: reported once, and the client stops for good. */
  #refused(reason: string, status?: number): void {
    if (this.#closed) return;
    const error = new RelayRefusedError(
      this.#options.url,
      reason,
      this.#options.accessToken !== undefined,
      status,
    );
    this.#options.log?.debug(error.message);
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#queue = [];
    this.#firstConnect.reject(error);
    this.#options.onRefused?.(error);
  }

  #authenticated(): void {
    this.#lastFailure = undefined;
    this.#heardAt = performance.now();
    this.#slowAttempts = 0;
    this.#restartInMs = undefined;
    this.#setConnected(true);
    this.#firstConnect.resolve();
    this.#options.log?.debug(`relay ${this.#options.url}: connected`);
    const queued = this.#queue;
    this.#queue = [];
    for (const frame of queued) this.#send(frame);
    if (this.#wasConnected) this.#replay(replayTail(queued));
    this.#wasConnected = true;
    this.#armPing();
  }

  /** Sends `frames` again after each of {@linkcode REPLAY_AFTER_MS} while connected. */
  #replay(frames: DatagramFrame[]): void {
    if (frames.length === 0) return;
    const socket = this.#socket;
    for (const delay of REPLAY_AFTER_MS) {
      const timer = setTimeout(() => {
        this.#replayTimers.delete(timer);
        // Only on the connection they were meant for.
        if (this.#socket !== socket || !this.#connected) return;
        this.replayed += frames.length;
        for (const frame of frames) this.#send(frame);
      }, delay);
      Deno.unrefTimer(timer);
      this.#replayTimers.add(timer);
    }
  }

  #cancelReplays(): void {
    for (const timer of this.#replayTimers) clearTimeout(timer);
    this.#replayTimers.clear();
  }

  /**
   * Pings once the relay has been quiet for {@linkcode PING_INTERVAL_MS}; closes
   * when nothing at all comes back within {@linkcode PONG_TIMEOUT_MS}. Frames only
   * stamp {@linkcode RelayClient.#heardAt}: no timer is reset per packet.
   */
  #armPing(delayMs = PING_INTERVAL_MS): void {
    this.#arm(delayMs, () => {
      const quietMs = performance.now() - this.#heardAt;
      if (quietMs < PING_INTERVAL_MS) return this.#armPing(PING_INTERVAL_MS - quietMs);
      this.#pendingPing = crypto.getRandomValues(new Uint8Array(8));
      const pingedAt = performance.now();
      this.#send({ type: "ping", data: this.#pendingPing });
      this.#arm(PONG_TIMEOUT_MS, () => {
        if (this.#heardAt > pingedAt) this.#armPing();
        else this.#socket?.close();
      });
    });
  }

  #lost(): void {
    clearTimeout(this.#timer);
    this.#socket = undefined;
    if (this.#connected) this.#outageSince = performance.now();
    this.#cancelReplays();
    this.#setConnected(false);
    if (!this.#closed) this.#retry();
  }

  #retry(): void {
    const outageMs = performance.now() - this.#outageSince;
    const wait = reconnectDelay({
      outageMs,
      slowAttempts: this.#slowAttempts,
      restartInMs: this.#restartInMs,
      random: Math.random(),
    });
    this.#restartInMs = undefined;
    if (outageMs >= FAST_RETRY_WINDOW_MS) this.#slowAttempts++;
    this.#options.log?.debug(`relay ${this.#options.url}: reconnecting in ${Math.round(wait)} ms`);
    this.#retryTimer = setTimeout(() => this.#open(), wait);
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#options.onStateChange?.(connected);
  }

  #arm(ms: number, action: () => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(action, ms);
  }

  #send(frame: RelayFrame): void {
    try {
      this.#sendMessage(encodeRelayFrame(frame, this.#version));
    } catch {
      // A frame the relay would refuse (an oversized datagram from the queue): dropped.
      this.dropped++;
    }
  }

  #sendMessage(message: Uint8Array): void {
    // Closed sockets ignore sends; the close handler reconnects.
    this.#socket?.send(message);
  }
}

/**
 * The WebSocket URL of a relay given as iroh writes it (`https://relay.example/`).
 * An access token never goes in it: see {@linkcode RelayClientOptions.accessToken}.
 * @throws {TypeError} for anything but http(s) and ws(s) URLs.
 */
export function relayWebSocketUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`Invalid relay URL '${url}': not a URL`);
  }
  const scheme =
    { "http:": "ws:", "https:": "wss:", "ws:": "ws:", "wss:": "wss:" }[parsed.protocol];
  if (!scheme) throw new TypeError(`Invalid relay URL '${url}': use http(s):// or ws(s)://`);
  parsed.protocol = scheme;
  if (parsed.pathname === "/" || parsed.pathname === "") parsed.pathname = "/relay";
  return parsed.toString();
}
