/**
 * Receive buffers for a session's server-side UDP flows (sans-IO): every flow
 * needs room for the largest datagram, since one that does not fit is cut
 * short by the kernel and lost, and a flow's receive holds its buffer while
 * the flow is idle. The buffers are slots of one block allocated at the first
 * flow: a block this large is mapped by the allocator and its pages are
 * committed only once a datagram is written into them, so an idle flow whose
 * replies are small costs a page of memory, not 64 KiB (measured: see
 * docs/SECURITY.md). Slots are reused as flows come and go.
 * @module
 */

/** Largest UDP datagram (65,507 bytes over IPv4) rounded up: one slot holds any of them. */
export const RECEIVE_SLOT_BYTES = 65_536;

/** A session's receive buffers, at most `count` of them from the block. */
export class UdpReceiveSlots {
  readonly #count: number;
  #block?: Uint8Array;
  /** Slot indices free for reuse; the rest of the block past `#used` is untouched. */
  readonly #free: number[] = [];
  #used = 0;

  /**
   * Allocates nothing until the first {@linkcode UdpReceiveSlots.take}.
   * @param count slots in the block (a session's flow limit)
   */
  constructor(count: number) {
    this.#count = count;
  }

  /** Slots handed out and not yet given back. */
  get inUse(): number {
    return this.#used - this.#free.length;
  }

  /**
   * A buffer of {@linkcode RECEIVE_SLOT_BYTES} for one flow. When every slot is
   * taken (flows evicted at the limit give theirs back only once their receive
   * has ended) it is a buffer of its own, which {@linkcode give} then ignores.
   */
  take(): Uint8Array {
    const index = this.#free.pop() ?? (this.#used < this.#count ? this.#used++ : undefined);
    if (index === undefined) return new Uint8Array(RECEIVE_SLOT_BYTES);
    this.#block ??= new Uint8Array(this.#count * RECEIVE_SLOT_BYTES);
    return this.#block.subarray(index * RECEIVE_SLOT_BYTES, (index + 1) * RECEIVE_SLOT_BYTES);
  }

  /** Takes back a buffer from {@linkcode take} once nothing receives into it any more. */
  give(slot: Uint8Array): void {
    if (!this.#block || slot.buffer !== this.#block.buffer) return;
    this.#free.push(slot.byteOffset / RECEIVE_SLOT_BYTES);
  }
}
