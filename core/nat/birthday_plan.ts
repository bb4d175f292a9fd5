/**
 * The bounds and the probe plan of birthday punching (sans-IO): which ports
 * the probing side tries, when each probe is due, and the budgets every
 * attempt stays within. Randomness comes from the caller, so tests can seed it.
 * @module
 */

/** Sockets the spraying side (behind the endpoint-dependent NAT) opens at most. */
export const BIRTHDAY_SOCKETS = 256;
/** Probes the probing side sends at most per attempt, each to a distinct port. */
export const BIRTHDAY_PROBES = 1_024;
/** The probes are spread evenly over this long (about 500 a second). */
export const BIRTHDAY_PROBE_SPREAD_MS = 2_000;
/** The spraying side sends one packet from each socket this often... */
export const BIRTHDAY_SPRAY_INTERVAL_MS = 1_000;
/** ...this many times (the first at once), so a late start on either side still meets. */
export const BIRTHDAY_SPRAY_ROUNDS = 3;
/** The whole attempt, confirmation included, ends after this long. */
export const BIRTHDAY_TIMEOUT_MS = 4_000;
/** Lowest port a probe goes to: NATs hand out ports from 1024 up (Linux, most CPEs). */
export const BIRTHDAY_LOWEST_PORT = 1_024;

/** A uniform random number in [0, 1): `Math.random`-shaped, seedable in tests. */
export type RandomSource = () => number;

/** A random source from the platform's CSPRNG (the ports must not be predictable). */
export function secureRandom(): RandomSource {
  const buffer = new Uint32Array(64);
  let next = buffer.length;
  return () => {
    if (next === buffer.length) {
      crypto.getRandomValues(buffer);
      next = 0;
    }
    return buffer[next++] / 2 ** 32;
  };
}

/** A deterministic random source (mulberry32) for tests and simulations. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Which ports to probe and when. */
export interface ProbePlan {
  /** Distinct ports in {@linkcode BIRTHDAY_LOWEST_PORT}..65535, in sending order. */
  readonly ports: readonly number[];
  /** How many probes are due `elapsedMs` after the start (never more than `ports.length`). */
  dueBy(elapsedMs: number): number;
}

/**
 * Draws `count` distinct ports at random and spreads them evenly over
 * `spreadMs` (the first at once).
 * @throws {RangeError} when `count` is not in 1..{@linkcode BIRTHDAY_PROBES}
 * or `spreadMs` is negative.
 */
export function planProbes(count: number, spreadMs: number, random: RandomSource): ProbePlan {
  if (!Number.isInteger(count) || count < 1 || count > BIRTHDAY_PROBES) {
    throw new RangeError(`Cannot plan probes: count must be 1..${BIRTHDAY_PROBES}, got ${count}`);
  }
  if (!(spreadMs >= 0)) throw new RangeError(`Cannot plan probes: spreadMs must be >= 0`);
  const span = 65_536 - BIRTHDAY_LOWEST_PORT;
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(BIRTHDAY_LOWEST_PORT + Math.floor(random() * span));
  const ports = [...chosen];
  const gap = spreadMs / count;
  return {
    ports,
    dueBy: (elapsedMs) =>
      elapsedMs < 0 ? 0 : gap === 0 ? count : Math.min(count, Math.floor(elapsedMs / gap) + 1),
  };
}
