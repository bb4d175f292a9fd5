/**
 * The probe stream of one path of a session: each side pings every second and
 * answers the other's pings, so each side knows whether the path still carries
 * traffic and its round trip, long before QUIC's idle timeout would say. On
 * the session's first path the same stream carries the hole-punching
 * signaling (offers, answers), which the channel hands to its owner.
 * @module
 */
import type { FramedStream } from "./framed_stream.ts";
import type { Message } from "./messages.ts";

/** How often a path is probed. */
export const PROBE_INTERVAL_MS = 1_000;
/** Pings remembered while waiting for their pong. */
const MAX_PENDING_PINGS = 16;

/** A signaling message carried on the first path's channel. */
export type PathSignal = Extract<Message, { type: "path-offer" | "path-answer" }>;

/** What a {@linkcode PathChannel} reports. */
export interface PathChannelEvents {
  /** The peer answered a ping after `rttMs`, or pinged us (no round trip then). */
  onHeard(rttMs?: number): void;
  /** A signaling message arrived. Without a handler, signaling is a protocol error. */
  onSignal?(message: PathSignal): void;
  /**
   * Ping at once rather than after the first interval: for a path joining a
   * running session, whose round trip should be known before it is announced.
   */
  probeNow?: boolean;
}

/** Probes one path over its stream and carries signaling messages. */
export class PathChannel {
  readonly #stream: FramedStream;
  readonly #events: PathChannelEvents;
  readonly #sent = new Map<number, number>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #done: Promise<void>;
  #nonce = 0;
  #closed = false;

  /**
   * Starts probing and reading.
   * @param stream the path's stream, past its first message (hello or join)
   * @param events where answers and signaling go
   */
  constructor(stream: FramedStream, events: PathChannelEvents) {
    this.#stream = stream;
    this.#events = events;
    // The first ping waits an interval too: a session's first moments are busy
    // (hole punching loads and gathers), which would only inflate the first sample.
    this.#timer = setInterval(() => this.#ping(), PROBE_INTERVAL_MS);
    Deno.unrefTimer(this.#timer);
    if (events.probeNow) this.#ping();
    this.#done = this.#read().finally(() => this.close());
  }

  /** Resolves when the stream ended or the channel was closed. */
  get done(): Promise<void> {
    return this.#done;
  }

  /**
   * Sends a signaling message to the peer.
   * @throws {Error} when the stream is gone.
   */
  async signal(message: PathSignal): Promise<void> {
    await this.#stream.write(message);
  }

  /** Stops probing and lets the stream go. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#stream.abort();
  }

  #ping(): void {
    if (this.#closed) return;
    const nonce = this.#nonce = (this.#nonce + 1) >>> 0;
    this.#sent.set(nonce, performance.now());
    if (this.#sent.size > MAX_PENDING_PINGS) {
      this.#sent.delete(this.#sent.keys().next().value!);
    }
    this.#stream.write({ type: "path-ping", nonce }).catch(() => this.close());
  }

  async #read(): Promise<void> {
    for (;;) {
      let message: Message | null;
      try {
        message = await this.#stream.read();
      } catch {
        return;
      }
      if (!message || this.#closed) return;
      switch (message.type) {
        case "path-ping":
          this.#events.onHeard();
          this.#stream.write({ type: "path-pong", nonce: message.nonce }).catch(() => {});
          break;
        case "path-pong": {
          const sentAt = this.#sent.get(message.nonce);
          if (sentAt === undefined) break;
          this.#sent.delete(message.nonce);
          this.#events.onHeard(performance.now() - sentAt);
          break;
        }
        case "path-offer":
        case "path-answer":
          if (!this.#events.onSignal) return;
          this.#events.onSignal(message);
          break;
        default:
          return; // nothing else belongs on a path stream
      }
    }
  }
}
