/**
 * What every WAN suite does around its measurements: check the machine can build the
 * namespaces and has the tools, and give each case a fresh WAN pair that is closed
 * (with the delay line's counters read) whatever happens.
 * @module
 */
import { canBuildBeds, sweepStaleBeds } from "../tests/netns/mod.ts";
import { findTool } from "../tests/netns/command.ts";
import { createWanPair, type WanPair } from "../tests/netns/wan/wan_pair.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import { type BenchRow, reasonOf } from "./bench_suite.ts";
import type { Iperf3Result } from "./iperf3.ts";
import type { PathRuns } from "./path_runs.ts";
import type { WanCase } from "./wan_cases.ts";
import type { LineReport } from "./wan_line_report.ts";
import { WanPaths } from "./wan_paths.ts";

/** What one case of a WAN table measured, before it becomes rows. */
export interface WanCaseResult<K extends string, R = Iperf3Result> {
  /** The case. */
  wanCase: WanCase;
  /** Per started path: its runs' results (iperf3's, unless the suite adds more) and errors. */
  runs: Map<K, PathRuns<R>>;
  /** Paths that could not be set up, with the reason. */
  unavailable: Map<K, string>;
  /** The delay line's counters, undefined when it did not report. */
  line: LineReport | undefined;
  /** Why the line did not report, when it did not. */
  lineSilence?: string;
}

/** Tools every WAN suite needs, as [command, Debian package]. */
const WAN_TOOLS: readonly (readonly [string, string])[] = [
  ["ethtool", "ethtool"],
  ["iperf3", "iperf3"],
  ["ss", "iproute2"],
];

/**
 * Why a WAN suite cannot run here (no root or no netns support, or a missing tool among
 * the WAN pair's, iperf3 and `extraTools`), or undefined when it can.
 */
export async function wanSkipReason(
  extraTools: readonly (readonly [string, string])[] = [],
): Promise<string | undefined> {
  const support = await canBuildBeds({ stun: false });
  if (!support.ok) return support.reason;
  const missing = [...WAN_TOOLS, ...extraTools]
    .filter(([name]) => !findTool(name))
    .map(([name, pkg]) => `${name} (${pkg})`);
  return missing.length > 0 ? `missing tools: ${missing.join(", ")}` : undefined;
}

/** What {@link onWanPair} returns. */
export interface OnWanPair<T> {
  /** What `measure` resolved to. */
  measured: T;
  /** The delay line's counters, undefined when it did not report. */
  line: LineReport | undefined;
  /** Why the line did not report, when it did not. */
  lineSilence?: string;
}

/**
 * Builds the WAN pair of `wanCase`, runs `measure` on it and closes the pair (also on
 * Ctrl-C, through `env`). `measure` stops what it starts; closing the pair kills whatever
 * is left in its namespaces.
 *
 * @throws {Error} when the pair cannot be built, or what `measure` throws.
 */
export async function onWanPair<T>(
  env: BenchEnvironment,
  wanCase: Pick<WanCase, "ab" | "ba">,
  measure: (wan: WanPair) => Promise<T>,
): Promise<OnWanPair<T>> {
  const wan = await createWanPair({ ab: wanCase.ab, ba: wanCase.ba });
  env.onStop(() => wan.close());
  let measured: T;
  let line: LineReport | undefined;
  try {
    measured = await measure(wan);
  } finally {
    line = await wan.close();
  }
  return { measured, line, lineSilence: wan.noReportReason() };
}

/** One WAN table: its cases and rows, how to measure a case and how it becomes rows. */
export interface WanTable<K extends string, R> {
  /** Title of the summary table (also of the one "skipped" row). */
  summaryTitle: string;
  /** The cases, in table order. */
  cases: readonly WanCase[];
  /** The rows (paths) of each case. */
  paths: readonly K[];
  /** Tools besides the WAN pair's and iperf3, as [command, Debian package]. */
  extraTools?: readonly (readonly [string, string])[];
  /** Measures one case on its own WAN pair ({@link onWanPair}). */
  measureCase(wanCase: WanCase): Promise<WanCaseResult<K, R>>;
  /** The case's row of the summary table. */
  summaryRow(result: WanCaseResult<K, R>): BenchRow;
  /** The case's own table. */
  caseRows(result: WanCaseResult<K, R>): BenchRow[];
}

/**
 * Runs a WAN table: one "skipped" row when the machine cannot ({@link wanSkipReason});
 * else, after sweeping beds a crashed run left, each case in turn (a case whose WAN pair
 * could not be built gets every path unavailable with the reason, and the next case
 * runs), then the summary rows and every case's table.
 */
export async function runWanTable<K extends string, R>(
  table: WanTable<K, R>,
): Promise<BenchRow[]> {
  const reason = await wanSkipReason(table.extraTools);
  if (reason !== undefined) {
    return [{ table: table.summaryTitle, path: "(suite)", values: {}, note: `skipped: ${reason}` }];
  }
  await sweepStaleBeds();
  const results: WanCaseResult<K, R>[] = [];
  for (const wanCase of table.cases) {
    try {
      results.push(await table.measureCase(wanCase));
    } catch (error) {
      const why = reasonOf(error);
      results.push({
        wanCase,
        runs: new Map(),
        unavailable: new Map(table.paths.map((path) => [path, `WAN: ${why}`])),
        line: undefined,
      });
    }
  }
  return [
    ...results.map((result) => table.summaryRow(result)),
    ...results.flatMap((result) => table.caseRows(result)),
  ];
}

/**
 * {@link onWanPair} with the WAN table's paths (`wan_paths.ts`) on the pair, all stopped
 * when `measure` is done (also on Ctrl-C, through `env`).
 */
export function onWanPaths<T>(
  env: BenchEnvironment,
  wanCase: Pick<WanCase, "ab" | "ba">,
  measure: (wan: WanPair, paths: WanPaths) => Promise<T>,
): Promise<OnWanPair<T>> {
  return onWanPair(env, wanCase, async (wan) => {
    const paths = new WanPaths(wan, env.mainModule);
    env.onStop(() => paths.stop());
    try {
      return await measure(wan, paths);
    } finally {
      await paths.stop();
    }
  });
}
