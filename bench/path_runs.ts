/**
 * The two loops every WAN table shares: start each path once (a path that cannot start is
 * "unavailable" with its reason), then measure the started paths in interleaved runs
 * (every path once, then again), so a slow spell of a shared machine hits all paths alike.
 * @module
 */
import { reasonOf } from "./bench_suite.ts";

/** What {@link startPaths} started and what it could not. */
export interface StartedPaths<K, E> {
  /** Per started path, what `start` returned, in the order of `paths`. */
  started: Map<K, E>;
  /** Per path that failed to start, the first line of its error. */
  unavailable: Map<K, string>;
}

/** Starts every path of `paths` in turn; an error marks that path unavailable, not all. */
export async function startPaths<K, E>(
  paths: readonly K[],
  start: (path: K) => Promise<E>,
): Promise<StartedPaths<K, E>> {
  const started = new Map<K, E>();
  const unavailable = new Map<K, string>();
  for (const path of paths) {
    try {
      started.set(path, await start(path));
    } catch (error) {
      unavailable.set(path, reasonOf(error));
    }
  }
  return { started, unavailable };
}

/** What the runs of one path gave. */
export interface PathRuns<R> {
  /** Results of the runs that succeeded, in run order. */
  results: R[];
  /** First line of each failed run's error. */
  errors: string[];
}

/**
 * Runs `measure` `runs` times for each path, interleaved: run 1 of every path, then run 2,
 * and so on. A failed run is recorded and the others go on. `onRun` is told before each
 * (for a progress line).
 */
export async function runInterleaved<K, R>(
  paths: readonly K[],
  runs: number,
  measure: (path: K) => Promise<R>,
  onRun: (path: K, run: number) => void = () => {},
): Promise<Map<K, PathRuns<R>>> {
  const byPath = new Map<K, PathRuns<R>>(paths.map((path) => [path, { results: [], errors: [] }]));
  for (let run = 0; run < runs; run++) {
    for (const path of paths) {
      onRun(path, run);
      const into = byPath.get(path)!;
      try {
        into.results.push(await measure(path));
      } catch (error) {
        into.errors.push(reasonOf(error));
      }
    }
  }
  return byPath;
}
