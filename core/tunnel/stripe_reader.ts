/**
 * Exact reads from one stripe: fills a view completely (or reports the end of
 * the stream), reading into the caller's buffer when the stream supports BYOB
 * reads (Deno's QUIC streams do) and copying from chunks otherwise.
 * @module
 */

/** What {@linkcode StripeReader.fill} filled. */
export interface Filled {
  /** The view asked for, over the buffer now holding the bytes (BYOB reads move buffers). */
  view: Uint8Array;
  /** Bytes filled: the view's length, or less at the end of the stream. */
  filled: number;
}

/** Reads exact amounts from a readable stream. */
export class StripeReader {
  #byob: ReadableStreamBYOBReader | undefined;
  #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #leftover: Uint8Array;

  /**
   * Takes `readable`'s lock; `prefix` (bytes already read past a header) comes first.
   */
  constructor(readable: ReadableStream<Uint8Array>, prefix: Uint8Array = new Uint8Array(0)) {
    try {
      this.#byob = readable.getReader({ mode: "byob" });
    } catch {
      this.#plain = readable.getReader();
    }
    this.#leftover = prefix;
  }

  /** Fills `view`; fewer bytes only when the stream ended. */
  async fill(view: Uint8Array): Promise<Filled> {
    // Read before the loop: a BYOB read detaches the view, which then reads as empty.
    const { byteOffset, length } = view;
    let filled = 0;
    while (filled < length) {
      const part = await this.readUpTo(view.subarray(filled), length - filled);
      // The read moved the view's buffer; the bytes before `filled` moved with it.
      view = new Uint8Array(part.view.buffer, byteOffset, length);
      if (part.filled === 0) break;
      filled += part.filled;
    }
    return { view, filled };
  }

  /**
   * Reads at most `wanted` bytes (at least 1, or 0 at the end of the stream) into the
   * start of `view`. A BYOB read asks for up to `lookahead` bytes more (as far as `view`
   * has room), so what follows (the next segment's header) often comes with the same
   * read; those bytes, like the rest of a chunk from a plain read, are read first next time.
   */
  async readUpTo(view: Uint8Array, wanted: number, lookahead = 0): Promise<Filled> {
    if (this.#leftover.length > 0) {
      const filled = Math.min(wanted, this.#leftover.length, view.length);
      view.set(this.#leftover.subarray(0, filled));
      this.#leftover = this.#leftover.subarray(filled);
      return { view, filled };
    }
    if (!this.#byob) {
      const { value, done } = await this.#plain!.read();
      if (done) return { view, filled: 0 };
      const filled = Math.min(wanted, view.length, value.length);
      view.set(value.subarray(0, filled));
      this.#leftover = value.subarray(filled);
      return { view, filled };
    }
    const { byteOffset, length } = view;
    const { value, done } = await this.#byob.read(
      view.subarray(0, Math.min(length, wanted + lookahead)),
    );
    if (value) view = new Uint8Array(value.buffer, byteOffset, length);
    if (done || !value) return { view, filled: 0 };
    if (value.length <= wanted) return { view, filled: value.length };
    // The leftover was empty: the bytes past `wanted` are all it holds now.
    this.#leftover = view.slice(wanted, value.length);
    return { view, filled: wanted };
  }

  /** Stops reading (the peer is asked to stop sending). */
  cancel(): Promise<void> {
    return (this.#byob ?? this.#plain)!.cancel();
  }
}
