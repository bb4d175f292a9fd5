import type { BenchEnvironment } from "./bench_environment.ts";

/** Knobs shared by every suite. */
export interface BenchOptions {
  /** Repetitions of each throughput measurement (the median is reported). */
  runs: number;
  /** iperf3 test length in seconds. */
  durationSec: number;
  /** Cases of the `wan` suite to run (`--wan-cases`); all when absent. */
  wanCases?: string[];
}

/** One row of one result table. */
export interface BenchRow {
  /** Title of the table this row belongs to. */
  table: string;
  /** The path measured (row label), e.g. `ssh -L`. */
  path: string;
  /** Named measurements (column name -> value); null when not measured. */
  values: Record<string, number | null>;
  /** Free text: individual runs, or `unavailable: <reason>`. */
  note?: string;
}

/**
 * A group of measurements. To add rows (e.g. "manual-mode setup time"), write a
 * suite in its own file and append it to `SUITES` in `suites.ts`.
 */
export interface BenchSuite {
  /** Short id, used by `--only`. */
  name: string;
  /** One line for `--help`. */
  description: string;
  /** Measures and returns rows; must stop whatever it starts (the environment stops what it lends). */
  run(env: BenchEnvironment, options: BenchOptions): Promise<BenchRow[]>;
}

/** The first line of an error's message, for an "unavailable: <reason>" note. */
export function reasonOf(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return reason.split("\n")[0].trim();
}
