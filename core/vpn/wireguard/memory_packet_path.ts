/**
 * An in-memory {@link PacketPath} pair for tests: what one end sends, the
 * other receives, unless a hook drops it.
 * @module
 */
import type { PacketPath } from "./packet_path.ts";

/** Options of {@link memoryPacketPathPair}. */
export interface MemoryPacketPathOptions {
  /**
   * Called for every message sent; returning true drops it (loss). `from`
   * says which end of the pair sent it.
   */
  drop?: (message: Uint8Array, from: "a" | "b") => boolean;
  /**
   * Messages waiting at a receiving end beyond which new ones are dropped, as
   * a socket's buffer overflows. Default 65,536: more than tests send at once.
   */
  capacity?: number;
}

/** One end of an in-memory path pair. */
export class MemoryPacketPath implements PacketPath {
  readonly #side: "a" | "b";
  readonly #options: MemoryPacketPathOptions;
  #other: MemoryPacketPath | undefined;
  #queue: Uint8Array[] = [];
  #waiter: ((messages: Uint8Array[] | null) => void) | undefined;
  #closed = false;
  /** Messages sent by this end, delivered or not. */
  sent = 0;
  /** Messages sent by this end that the drop hook or a full queue discarded. */
  dropped = 0;

  /** Use {@link memoryPacketPathPair}. */
  constructor(side: "a" | "b", options: MemoryPacketPathOptions) {
    this.#side = side;
    this.#options = options;
  }

  /** @internal Pairs two ends. */
  connect(other: MemoryPacketPath): void {
    this.#other = other;
  }

  /** Passes messages to the other end (after the drop hook). */
  send(messages: readonly Uint8Array[]): void {
    if (this.#closed) return;
    for (const message of messages) {
      this.sent++;
      if (this.#options.drop?.(message, this.#side) || !this.#other?.deliver(message)) {
        this.dropped++;
      }
    }
  }

  /** @internal Takes a message from the other end; false when it is dropped. */
  deliver(message: Uint8Array): boolean {
    if (this.#closed || this.#queue.length >= (this.#options.capacity ?? 65_536)) return false;
    this.#queue.push(message);
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter(this.#take());
    }
    return true;
  }

  /** The messages that arrived so far, waiting for at least one. */
  receive(): Promise<Uint8Array[] | null> {
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiter = resolve);
  }

  /** Closes this end; its pending receive() returns null. The other end stays open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#waiter?.(null);
    this.#waiter = undefined;
  }

  #take(): Uint8Array[] {
    const messages = this.#queue;
    this.#queue = [];
    return messages;
  }
}

/** Two connected in-memory paths, `a` and `b`. */
export function memoryPacketPathPair(
  options: MemoryPacketPathOptions = {},
): [MemoryPacketPath, MemoryPacketPath] {
  const a = new MemoryPacketPath("a", options);
  const b = new MemoryPacketPath("b", options);
  a.connect(b);
  b.connect(a);
  return [a, b];
}
