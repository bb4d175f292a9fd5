/**
 * The WAN table (`deno task bench --only wan`, issue 20): iperf3 TCP from a left to a right
 * network namespace joined by the userspace delay line (`tests/netns/wan/`), MTU 1500,
 * through each of direct TCP, `ssh -L`, bare Deno QUIC, the tunnel's direct path and the
 * tunnel through `tunnel relay`, for each case of `wan_cases.ts`. One WAN pair per case;
 * within a case, runs are interleaved (every path once, then again) and the median is
 * reported with the slowest receiver second and the count of seconds without a byte.
 * Each case also gets a row with the delay line's counters.
 * @module
 */
import { sweepStaleBeds } from "../tests/netns/mod.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import { type BenchOptions, type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { runIperf3 } from "./iperf3.ts";
import { type ReceiverInterval, summarizeSeconds } from "./iperf3_seconds.ts";
import { formatValue } from "./markdown_table.ts";
import { runInterleaved, startPaths } from "./path_runs.ts";
import { median } from "./stats.ts";
import { onWanPair, wanSkipReason } from "./wan_case_run.ts";
import { selectWanCases, type WanCase } from "./wan_cases.ts";
import { caseTableTitle, type LineReport, lineRow, summarizeLine } from "./wan_line_report.ts";
import { WAN_PATHS, type WanPathKind, WanPaths } from "./wan_paths.ts";

/** What one case measured, before it becomes rows. */
export interface WanCaseResult {
  /** The case. */
  wanCase: WanCase;
  /** Per path: MB/s of each run that succeeded. */
  samples: Map<WanPathKind, number[]>;
  /** Per path: the receiver's intervals of every run. */
  intervals: Map<WanPathKind, ReceiverInterval[]>;
  /** Per path: the first line of each failed run's error. */
  errors: Map<WanPathKind, string[]>;
  /** Paths that could not be set up, with the reason. */
  unavailable: Map<WanPathKind, string>;
  /** The delay line's counters, undefined when it did not report. */
  line: LineReport | undefined;
  /** Why the line did not report, when it did not. */
  lineSilence?: string;
}

/** Title of the summary table. */
export function summaryTitle(options: BenchOptions): string {
  return `WAN: iperf3 TCP MB/s between two namespaces through the delay line, MTU 1500 ` +
    `(median of ${options.runs}, iperf3 -t ${options.durationSec})`;
}

/**
 * Rows of one case: one per path (median MB/s, ratio to `ssh -L`, slowest receiver second
 * over all runs, seconds without a byte over all runs) and a last `(delay line)` row.
 */
export function caseRows(result: WanCaseResult): BenchRow[] {
  const line = summarizeLine(result.line, result.wanCase, result.lineSilence);
  const table = caseTableTitle("WAN", result.wanCase, line);
  const sshRuns = result.samples.get("ssh -L") ?? [];
  const ssh = sshRuns.length > 0 ? median(sshRuns) : null;
  const rows = WAN_PATHS.map((path): BenchRow => {
    const reason = result.unavailable.get(path);
    const runs = result.samples.get(path) ?? [];
    const mbPerSec = runs.length > 0 ? median(runs) : null;
    const seconds = summarizeSeconds(result.intervals.get(path) ?? []);
    const values = {
      "MB/s": mbPerSec,
      "vs ssh -L": mbPerSec !== null && ssh ? mbPerSec / ssh : null,
      "slowest 1 s (MB/s)": reason === undefined ? seconds.slowestMbPerSec : null,
      "seconds at 0 B": reason === undefined && seconds.seconds > 0 ? seconds.zeroSeconds : null,
    };
    if (reason !== undefined) return { table, path, values, note: `unavailable: ${reason}` };
    const failed = result.errors.get(path) ?? [];
    const note = [
      runs.length > 0
        ? `runs: ${runs.map(formatValue).join(" / ")} (min ${formatValue(Math.min(...runs))}, ` +
          `max ${formatValue(Math.max(...runs))}); ${seconds.seconds} s counted`
        : "",
      failed.length > 0 ? `${failed.length} failed: ${failed[0]}` : "",
    ].filter(Boolean).join("; ");
    return { table, path, values, note };
  });
  rows.push(lineRow(table, line));
  return rows;
}

/** The summary table's row of one case: median MB/s per path, cases as rows. */
export function summaryRow(result: WanCaseResult, options: BenchOptions): BenchRow {
  const line = summarizeLine(result.line, result.wanCase, result.lineSilence);
  const values: Record<string, number | null> = {};
  for (const path of WAN_PATHS) {
    const runs = result.samples.get(path) ?? [];
    values[path] = runs.length > 0 ? median(runs) : null;
  }
  const unavailable = [...result.unavailable.keys()];
  return {
    table: summaryTitle(options),
    path: result.wanCase.title,
    values,
    note: [
      line.suspect ? "SUSPECT: see the case's delay line row" : `line: ${line.ownDrops} own drops`,
      unavailable.length > 0 ? `unavailable: ${unavailable.join(", ")}` : "",
    ].filter(Boolean).join("; "),
  };
}

async function measureCase(
  env: BenchEnvironment,
  wanCase: WanCase,
  options: BenchOptions,
): Promise<WanCaseResult> {
  const { measured, line, lineSilence } = await onWanPair(env, wanCase, async (wan) => {
    const paths = new WanPaths(wan, env.mainModule);
    // Ctrl-C: bench.ts stops the environment, which stops these too.
    env.onStop(() => paths.stop());
    try {
      const { started, unavailable } = await startPaths(WAN_PATHS, (path) => paths.start(path));
      const runs = await runInterleaved(
        [...started.keys()],
        options.runs,
        (path) => {
          const endpoint = started.get(path)!;
          return runIperf3({
            serverPort: paths.target.port,
            hostname: paths.target.hostname,
            clientPort: endpoint.port,
            dialHostname: endpoint.hostname,
            durationSec: options.durationSec,
            parallel: wanCase.parallel,
            namespaces: { server: wan.right.ns, client: wan.left.ns },
            receiverIntervals: true,
          });
        },
        (path, run) =>
          console.error(`[bench] wan ${wanCase.id} run ${run + 1}/${options.runs}: ${path}`),
      );
      return { runs, unavailable };
    } finally {
      await paths.stop();
    }
  });
  const { runs, unavailable } = measured;
  const perPath = <T>(pick: (path: WanPathKind) => T) =>
    new Map(WAN_PATHS.map((path) => [path, pick(path)]));
  return {
    wanCase,
    samples: perPath((path) => runs.get(path)?.results.map((r) => r.mbPerSec) ?? []),
    intervals: perPath((path) => runs.get(path)?.results.flatMap((r) => r.intervals ?? []) ?? []),
    errors: perPath((path) => runs.get(path)?.errors ?? []),
    unavailable,
    line,
    lineSilence,
  };
}

/** The WAN suite: see the module documentation. */
export const wanSuite: BenchSuite = {
  name: "wan",
  description: "iperf3 TCP across an emulated WAN (delay, loss, rate cap): direct, ssh -L, " +
    "bare QUIC, tunnel, tunnel via relay (--wan-cases to choose cases)",
  async run(env, options) {
    const cases = selectWanCases(options.wanCases);
    const reason = await wanSkipReason();
    if (reason !== undefined) {
      return [{
        table: summaryTitle(options),
        path: "(suite)",
        values: {},
        note: `skipped: ${reason}`,
      }];
    }
    await sweepStaleBeds();
    const results: WanCaseResult[] = [];
    for (const wanCase of cases) {
      try {
        results.push(await measureCase(env, wanCase, options));
      } catch (error) {
        // The WAN itself did not come up: every path of the case is unavailable.
        const why = reasonOf(error);
        results.push({
          wanCase,
          samples: new Map(),
          intervals: new Map(),
          errors: new Map(),
          unavailable: new Map(WAN_PATHS.map((path) => [path, `WAN: ${why}`])),
          line: undefined,
        });
      }
    }
    return [
      ...results.map((result) => summaryRow(result, options)),
      ...results.flatMap(caseRows),
    ];
  },
};
