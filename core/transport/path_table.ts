/**
 * Which of a session's paths to use, decided from what the probes tell (sans-IO):
 * a direct path beats a relayed one while it answers, the lowest round trip
 * wins among equals, and a path that stops answering is passed over well
 * before QUIC's idle timeout would close it.
 * @module
 */

import { isRelayedKind, type PathKind } from "./path_kind.ts";

export type { PathKind };

/** A path that has not answered a probe for this long is not used. */
export const PATH_SILENCE_MS = 2_500;
/** Weight of the newest round trip sample (an exponentially weighted average). */
const RTT_WEIGHT = 0.25;

/** What is known of one path. */
export interface PathInfo {
  /** Stable id within the table. */
  readonly id: number;
  /** Its kind (see path_kind.ts). */
  readonly kind: PathKind;
  /** For people: the address or relay URL. */
  readonly label: string;
  /** Smoothed round trip, once a probe came back. */
  readonly rttMs: number | undefined;
  /** When the path last answered (or was added). */
  readonly lastHeardAt: number;
  /** Answered within {@linkcode PATH_SILENCE_MS}. */
  readonly live: boolean;
  /** When it was added. */
  readonly addedAt: number;
}

interface PathEntry {
  id: number;
  kind: PathKind;
  label: string;
  rttMs: number | undefined;
  samples: number;
  lastHeardAt: number;
  addedAt: number;
}

/**
 * The paths of one session. Time is passed in (`now`, in ms), so the policy is
 * tested without clocks or sockets.
 */
export class PathTable {
  readonly #paths = new Map<number, PathEntry>();
  #nextId = 1;
  readonly #silenceMs: number;

  /**
   * Starts empty.
   * @param silenceMs how long a path may be silent and still be used
   */
  constructor(silenceMs = PATH_SILENCE_MS) {
    this.#silenceMs = silenceMs;
  }

  /** Adds a path, live from `now`; returns its id. */
  add(kind: PathKind, label: string, now: number): number {
    const id = this.#nextId++;
    this.#paths.set(id, {
      id,
      kind,
      label,
      rttMs: undefined,
      samples: 0,
      lastHeardAt: now,
      addedAt: now,
    });
    return id;
  }

  /** Forgets a path (it closed). */
  remove(id: number): void {
    this.#paths.delete(id);
  }

  /** The path answered at `now`, its probe after `rttMs` when given. */
  heard(id: number, now: number, rttMs?: number): void {
    const path = this.#paths.get(id);
    if (!path) return;
    path.lastHeardAt = Math.max(path.lastHeardAt, now);
    if (rttMs !== undefined && Number.isFinite(rttMs) && rttMs >= 0) {
      // The first probe also waits for the peer to set its side up: the second replaces it.
      path.rttMs = path.samples < 2 || path.rttMs === undefined
        ? rttMs
        : path.rttMs + RTT_WEIGHT * (rttMs - path.rttMs);
      path.samples++;
    }
  }

  /** Every path, as known at `now`. */
  list(now: number): PathInfo[] {
    return [...this.#paths.values()].map((path) => this.#info(path, now));
  }

  /** Number of paths. */
  get size(): number {
    return this.#paths.size;
  }

  /**
   * The path to send on at `now`: a live direct path, else a live relayed one
   * (lowest round trip first among live paths of a kind); when none is live,
   * the one heard from last, since a silent path may still come back.
   */
  best(now: number): PathInfo | undefined {
    let best: PathEntry | undefined;
    for (const path of this.#paths.values()) {
      if (!best || this.#better(path, best, now)) best = path;
    }
    return best && this.#info(best, now);
  }

  #live(path: PathEntry, now: number): boolean {
    return now - path.lastHeardAt <= this.#silenceMs;
  }

  #better(a: PathEntry, b: PathEntry, now: number): boolean {
    const [liveA, liveB] = [this.#live(a, now), this.#live(b, now)];
    if (liveA !== liveB) return liveA;
    if (!liveA) return a.lastHeardAt > b.lastHeardAt;
    const [relayedA, relayedB] = [isRelayedKind(a.kind), isRelayedKind(b.kind)];
    if (relayedA !== relayedB) return !relayedA;
    const [rttA, rttB] = [a.rttMs ?? Infinity, b.rttMs ?? Infinity];
    if (rttA !== rttB) return rttA < rttB;
    return a.id < b.id; // the older path, for stability
  }

  #info(path: PathEntry, now: number): PathInfo {
    const { samples: _, ...info } = path;
    return { ...info, live: this.#live(path, now) };
  }
}
