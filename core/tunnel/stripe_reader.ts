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
    let filled = 0;
    if (this.#leftover.length > 0) {
      filled = Math.min(view.length, this.#leftover.length);
      view.set(this.#leftover.subarray(0, filled));
      this.#leftover = this.#leftover.subarray(filled);
    }
    // Read before the loop: a BYOB read detaches the view, which then reads as empty.
    const { byteOffset, length } = view;
    while (filled < length) {
      if (this.#byob) {
        const { value, done } = await this.#byob.read(view.subarray(filled));
        // The read moved the view's buffer; the bytes before `filled` moved with it.
        if (value) view = new Uint8Array(value.buffer, byteOffset, length);
        if (done || !value) break;
        filled += value.length;
      } else {
        const { value, done } = await this.#plain!.read();
        if (done) break;
        const take = Math.min(length - filled, value.length);
        view.set(value.subarray(0, take), filled);
        filled += take;
        this.#leftover = value.subarray(take);
      }
    }
    return { view, filled };
  }

  /** Stops reading (the peer is asked to stop sending). */
  cancel(): Promise<void> {
    return (this.#byob ?? this.#plain)!.cancel();
  }
}
