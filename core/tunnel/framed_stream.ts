/**
 * Reads and writes protocol messages on a stream (the I/O side of messages.ts).
 * @module
 */
import type { DuplexStream } from "../transport/mod.ts";
import { encodeMessage, FrameDecoder, type Message, ProtocolError } from "./messages.ts";

/** A stream carrying framed messages. */
export class FramedStream {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder = new FrameDecoder();
  readonly #pending: Message[] = [];
  /** The stream being framed. */
  readonly stream: DuplexStream;

  /** Frames `stream`, taking both of its halves' locks. */
  constructor(stream: DuplexStream) {
    this.stream = stream;
    this.#reader = stream.readable.getReader();
    this.#writer = stream.writable.getWriter();
  }

  /**
   * Reads the next message, or `null` at a clean end of stream.
   * @throws {ProtocolError} on malformed input or a stream cut mid-frame.
   */
  async read(): Promise<Message | null> {
    for (;;) {
      const queued = this.#pending.shift();
      if (queued) return queued;
      const { value, done } = await this.#reader.read();
      if (done) {
        if (this.#decoder.hasPartialFrame) throw new ProtocolError("stream ended mid-frame");
        return null;
      }
      this.#pending.push(...this.#decoder.push(value));
    }
  }

  /**
   * Reads exactly one message and stops, so raw bytes that follow it stay
   * available through {@linkcode release}.
   */
  async readHeader(): Promise<Message | null> {
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) {
        if (this.#decoder.hasPartialFrame) throw new ProtocolError("stream ended mid-frame");
        return null;
      }
      const message = this.#decoder.pushOne(value);
      if (message) return message;
    }
  }

  /** Writes one message. */
  async write(message: Message): Promise<void> {
    await this.#writer.write(encodeMessage(message));
  }

  /** Writes frames already encoded (several may be joined into one write). */
  async writeEncoded(frames: Uint8Array): Promise<void> {
    await this.#writer.write(frames);
  }

  /** Ends our half of the stream after what was written. */
  async closeWrite(): Promise<void> {
    await this.#writer.close().catch(() => {});
  }

  /** Abandons both halves (peer sees a reset). */
  abort(): void {
    this.#writer.abort().catch(() => {});
    this.#reader.cancel().catch(() => {});
  }

  /**
   * Gives the raw stream back (for piping) with the bytes already read past the
   * last message.
   */
  release(): { stream: DuplexStream; remainder: Uint8Array } {
    this.#reader.releaseLock();
    this.#writer.releaseLock();
    return { stream: this.stream, remainder: this.#decoder.takeRemainder() };
  }
}
