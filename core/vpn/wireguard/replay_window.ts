/**
 * WireGuard's replay protection for transport messages (sans-IO): a counter is
 * accepted once, and only while it is within a sliding window behind the
 * highest counter seen, so reordered packets still arrive but copies and stale
 * ones do not. The window is a ring of 32-bit blocks, as wireguard-go's filter
 * keeps its bits, so a jump ahead clears only the blocks it passes.
 * @module
 */

/** Bits per block of the ring. */
const BLOCK_BITS = 32;
/** Blocks in the ring (a power of two). */
const RING_BLOCKS = 256;
/**
 * How far behind the highest counter a packet may still arrive: the ring less
 * one block, the one being filled (wireguard-go keeps 8192 - 64 with 64-bit blocks).
 */
export const REPLAY_WINDOW = BLOCK_BITS * RING_BLOCKS - BLOCK_BITS;
/**
 * Counters are taken up to here and no further. WireGuard's limit is
 * 2^64 - 2^13 - 1, but a session rekeys after 2^60 messages at most, and
 * JavaScript numbers are exact to 2^53: a counter past it is refused.
 */
export const MAX_COUNTER: number = Number.MAX_SAFE_INTEGER;

/** The counters one receiving key has accepted. */
export class ReplayWindow {
  readonly #ring = new Uint32Array(RING_BLOCKS);
  /** Highest counter accepted so far, -1 before the first. */
  #last = -1;

  /**
   * Accepts `counter` if it is new and recent enough, remembering it.
   * Call it only after the packet authenticated, so forged counters cannot
   * move the window.
   * @returns false for a copy, a counter too far behind, or one out of range.
   */
  accept(counter: number): boolean {
    if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_COUNTER) return false;
    const block = Math.floor(counter / BLOCK_BITS);
    if (counter > this.#last) {
      const lastBlock = this.#last < 0 ? -1 : Math.floor(this.#last / BLOCK_BITS);
      // Clear the blocks the window moves over (all of them after a long jump).
      const clear = Math.min(block - lastBlock, RING_BLOCKS);
      for (let i = 1; i <= clear; i++) this.#ring[(lastBlock + i) & (RING_BLOCKS - 1)] = 0;
      this.#last = counter;
    } else if (this.#last - counter > REPLAY_WINDOW) {
      return false;
    }
    const index = block & (RING_BLOCKS - 1);
    const bit = 1 << (counter % BLOCK_BITS);
    if ((this.#ring[index] & bit) !== 0) return false;
    this.#ring[index] |= bit;
    return true;
  }
}
