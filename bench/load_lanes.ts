/**
 * A closed-loop load: tasks (one per source address, say) run on a fixed
 * number of lanes at once, each lane waiting for one answer before sending
 * the next; every answer's outcome and latency is counted. Bounded by a
 * deadline: once it passes, no lane starts another request.
 * @module
 */
import { percentile } from "./stats.ts";

/** Counts of one load. */
export interface LoadOutcome {
  /** Answers by outcome (an HTTP status, `NOERROR`, `lost`...). */
  outcomes: Record<string, number>;
  /** Every answer's latency, ms. */
  latenciesMs: number[];
  /** Wall time from the first request to the last answer, ms. */
  elapsedMs: number;
  /** Whether the deadline stopped the load before every task ran out of requests. */
  cutShort: boolean;
  /** Tasks that failed (connect refused, connection closed...), with the first reason. */
  failures: { count: number; first?: string };
}

/** What a task reports per answer, and asks before each request. */
export interface LoadLane {
  /** Counts one answer. */
  record(outcome: string, latencyMs: number): void;
  /** Whether the deadline has passed: the task should stop sending. */
  expired(): boolean;
}

/**
 * Runs `tasks` on `lanes` lanes until all are done or `deadlineMs` has passed.
 * @param tasks The work, taken in order.
 * @param lanes How many tasks run at once.
 * @param deadlineMs Bound on the whole load, ms.
 * @param run Runs one task, reporting each answer through its lane.
 * @example
 * ```ts
 * const outcome = await runLanes([1, 2, 3], 2, 1_000, async (n, lane) => {
 *   lane.record("ok", n);
 * });
 * outcome.outcomes.ok; // 3
 * ```
 */
export async function runLanes<T>(
  tasks: readonly T[],
  lanes: number,
  deadlineMs: number,
  run: (task: T, lane: LoadLane) => Promise<void>,
): Promise<LoadOutcome> {
  const outcomes: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const failures: LoadOutcome["failures"] = { count: 0 };
  const started = performance.now();
  const deadline = started + deadlineMs;
  let cutShort = false;
  const lane: LoadLane = {
    record(outcome, latencyMs) {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      latenciesMs.push(latencyMs);
    },
    expired() {
      if (performance.now() < deadline) return false;
      cutShort = true;
      return true;
    },
  };
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && !lane.expired()) {
      const task = tasks[next++];
      try {
        await run(task, lane);
      } catch (error) {
        failures.count++;
        failures.first ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, worker));
  if (next < tasks.length) cutShort = true;
  return { outcomes, latenciesMs, elapsedMs: performance.now() - started, cutShort, failures };
}

/** Answers per second of a load: all answers, or those of the named outcomes. */
export function answersPerSecond(load: LoadOutcome, only?: readonly string[]): number {
  const counted = Object.entries(load.outcomes)
    .filter(([outcome]) => !only || only.includes(outcome))
    .reduce((sum, [, n]) => sum + n, 0);
  return load.elapsedMs > 0 ? counted / (load.elapsedMs / 1000) : 0;
}

/** The latency percentile `p` of a load, ms; null when nothing was answered. */
export function latencyPercentile(load: LoadOutcome, p: number): number | null {
  return load.latenciesMs.length > 0 ? percentile(load.latenciesMs, p) : null;
}
