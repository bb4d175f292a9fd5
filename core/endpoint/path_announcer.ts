/**
 * One line per path change (`path: direct 203.0.113.7:41641, rtt 1.2 ms`).
 * A path that has just joined has no round trip yet: its line waits for the
 * first probe to come back, or at most {@linkcode PATH_ANNOUNCE_WAIT_MS}.
 * @module
 */
import type { PathInfo } from "../transport/mod.ts";
import { describePath } from "../tunnel/mod.ts";

/**
 * Longest wait for a new path's first round trip before it is announced
 * without one: past one probe interval (1 s) and a slow round trip.
 */
export const PATH_ANNOUNCE_WAIT_MS = 1_500;
const POLL_MS = 50;

/** Announces path changes, each once, the latest only. */
export class PathAnnouncer {
  readonly #print: (line: string) => void;
  #paths: () => PathInfo[] = () => [];
  #latest = 0;

  /**
   * An announcer printing its lines with `print`.
   * @param print where the lines go
   */
  constructor(print: (line: string) => void) {
    this.#print = print;
  }

  /** Where fresh path information is read from while a line waits. */
  watch(paths: () => PathInfo[]): void {
    this.#paths = paths;
  }

  /** New traffic moved to `path`. */
  changed(path: PathInfo): void {
    const change = ++this.#latest;
    const started = performance.now();
    const attempt = () => {
      if (change !== this.#latest) return; // a newer change has its own line
      const now = this.#paths().find((p) => p.id === path.id) ?? path;
      if (now.rttMs !== undefined || performance.now() - started >= PATH_ANNOUNCE_WAIT_MS) {
        this.#print(`path: ${describePath(now)}`);
        return;
      }
      Deno.unrefTimer(setTimeout(attempt, POLL_MS));
    };
    attempt();
  }
}
