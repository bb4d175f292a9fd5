/**
 * A small seeded pseudo-random generator, so a delay line's losses and jitter repeat
 * exactly from run to run (and in unit tests).
 * @module
 */

/**
 * A `Math.random`-like function driven by `seed`: mulberry32, 32 bits of state. Its
 * period (2^32) and quality are plenty for drawing losses and jitter; it is not for
 * anything secret.
 *
 * @param seed Any number; only its low 32 bits are used.
 * @returns A function giving numbers in [0, 1), the same sequence for the same seed.
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const lost = random() < 0.01;
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
