/**
 * One in-memory bidirectional stream: two bounded one-way pipes joined the way a
 * QUIC stream joins its halves. Private to the transport folder.
 * @module
 */
import type { DuplexStream } from "./connection.ts";

/** How a {@linkcode memoryStream} tells its connection what happened to it. */
export interface MemoryStreamHooks {
  /** Unread bytes one direction holds before its writer waits. */
  bufferBytes: number;
  /** The opener first wrote bytes, closed or aborted its writable: the peer may see it. */
  onFirstUse(): void;
  /**
   * The accepter's side is done (it read to the end and ended its writable, or
   * a half was reset or stopped): as in QUIC, where the accepter grants stream
   * credit, the stream no longer counts against the opener's limit, even if the
   * opener has not read its half to the end.
   */
  onReleased(): void;
  /** Both directions were read to the end or broken: nothing is left to fail. */
  onFinished(): void;
}

/** Both ends of a stream, and a way to break it when its connection closes. */
export interface MemoryStream {
  /** The end returned by `openStream()`. */
  opener: DuplexStream;
  /** The end handed to the peer's `acceptStream()`. */
  accepter: DuplexStream;
  /** Errors both directions with `error` (the connection closed). */
  fail(error: Error): void;
}

/** Creates a stream whose two directions each buffer at most `hooks.bufferBytes`. */
export function memoryStream(hooks: MemoryStreamHooks): MemoryStream {
  let released = false;
  let finished = false;
  const update = () => {
    if (!released && forward.readerDone && backward.writerDone) {
      released = true;
      hooks.onReleased();
    }
    // A reader is done only after its writer is, so this implies released.
    if (!finished && forward.readerDone && backward.readerDone) {
      finished = true;
      hooks.onFinished();
    }
  };
  const forward: Pipe = new Pipe(hooks.bufferBytes, update, hooks.onFirstUse);
  const backward: Pipe = new Pipe(hooks.bufferBytes, update, () => {});
  return {
    opener: { readable: backward.readable, writable: forward.writable },
    accepter: { readable: forward.readable, writable: backward.writable },
    fail(error) {
      forward.fail(error);
      backward.fail(error);
    },
  };
}

/**
 * One direction: a writable whose chunks are copied into a bounded queue and a
 * byte readable that drains it. Data stays here (not in the readable's own
 * queue, whose high-water mark is 0) so the bound covers every unread byte.
 */
class Pipe {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly #limit: number;
  readonly #onChange: () => void;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #failure: Error | undefined;
  #writerDone = false;
  #readerDone = false;
  #wakeReader: (() => void) | undefined;
  #wakeWriter: (() => void) | undefined;
  #readController!: ReadableByteStreamController;
  #writeController!: WritableStreamDefaultController;

  constructor(limit: number, onChange: () => void, onFirstUse: () => void) {
    this.#limit = limit;
    this.#onChange = onChange;
    let used = false;
    const use = () => {
      if (!used) onFirstUse();
      used = true;
    };
    // Reset: the reader's next read fails and unread data is dropped.
    const reset = () => {
      use();
      this.fail(new Error("Cannot read: the peer reset the stream"));
    };
    this.readable = new ReadableStream({
      type: "bytes",
      start: (controller) => {
        this.#readController = controller;
      },
      pull: (controller) => this.#pull(controller),
      // Stop-sending: the writer's next write fails.
      cancel: () => this.fail(new Error("Cannot write: the peer stopped reading the stream")),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream({
      start: (controller) => {
        this.#writeController = controller;
        // abort() waits for a write in progress, which may be waiting for room the
        // reader will never make; the signal fires at once, so the reset does too.
        controller.signal.addEventListener("abort", reset, { once: true });
      },
      write: (chunk) => {
        // Like QUIC, an empty write sends nothing, so the peer does not see the stream yet.
        if (chunk.length > 0) use();
        return this.#write(chunk);
      },
      close: () => {
        use();
        this.#writerDone = true;
        this.#wake();
        this.#onChange();
      },
      abort: reset,
    });
  }

  /** The writable was closed, or the pipe broke: no more data will come. */
  get writerDone(): boolean {
    return this.#writerDone;
  }

  /** The reader saw the end, or the pipe broke. */
  get readerDone(): boolean {
    return this.#readerDone;
  }

  /** Ends both sides with `error`, dropping what was unread. Idempotent. */
  fail(error: Error): void {
    if (this.#failure || this.#readerDone) return;
    this.#failure = error;
    this.#writerDone = this.#readerDone = true;
    this.#chunks = [];
    this.#buffered = 0;
    try {
      this.#readController.error(error);
    } catch { /* already closed */ }
    this.#writeController.error(error);
    this.#wake();
    this.#onChange();
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Cannot write: chunk is not a Uint8Array");
    }
    // Copy in pieces that fit, so the caller may reuse its buffer once the write
    // resolves and no more than the limit is ever held.
    for (let offset = 0; offset < chunk.length;) {
      if (this.#failure) throw this.#failure;
      const room = this.#limit - this.#buffered;
      if (room <= 0) {
        await new Promise<void>((resolve) => this.#wakeWriter = resolve);
        continue;
      }
      const piece = chunk.slice(offset, offset + room);
      this.#chunks.push(piece);
      this.#buffered += piece.length;
      offset += piece.length;
      this.#wake();
    }
    if (this.#failure) throw this.#failure;
  }

  async #pull(controller: ReadableByteStreamController): Promise<void> {
    while (this.#chunks.length === 0 && !this.#writerDone) {
      await new Promise<void>((resolve) => this.#wakeReader = resolve);
    }
    if (this.#failure) return; // the controller was errored already
    if (this.#chunks.length === 0) {
      controller.close();
      controller.byobRequest?.respond(0);
      this.#readerDone = true;
      this.#onChange();
      return;
    }
    const request = controller.byobRequest;
    if (request?.view) {
      const view = new Uint8Array(
        request.view.buffer,
        request.view.byteOffset,
        request.view.byteLength,
      );
      request.respond(this.#take(view));
    } else {
      const chunk = this.#chunks.shift()!;
      this.#buffered -= chunk.length;
      // enqueue() transfers the whole buffer, so a chunk left over from a partial
      // BYOB read (a view into a larger buffer) is copied first.
      controller.enqueue(
        chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
          ? chunk
          : chunk.slice(),
      );
    }
    this.#wake();
  }

  /** Moves as many queued bytes as fit into `view`; returns how many. */
  #take(view: Uint8Array): number {
    let n = 0;
    while (n < view.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const count = Math.min(chunk.length, view.length - n);
      view.set(chunk.subarray(0, count), n);
      n += count;
      if (count === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(count);
    }
    this.#buffered -= n;
    return n;
  }

  #wake(): void {
    const reader = this.#wakeReader;
    const writer = this.#wakeWriter;
    this.#wakeReader = this.#wakeWriter = undefined;
    reader?.();
    writer?.();
  }
}
