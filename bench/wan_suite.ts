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
import type { WanPair } from "../tests/netns/wan/wan_pair.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import type { BenchOptions, BenchRow, BenchSuite } from "./bench_suite.ts";
import { type Iperf3Result, runIperf3 } from "./iperf3.ts";
import { summarizeSeconds } from "./iperf3_seconds.ts";
import { formatValue } from "./markdown_table.ts";
import { type PathRuns, runInterleaved, startPaths } from "./path_runs.ts";
import { medianOfKnown } from "./stats.ts";
import { rcvbufErrorsIn } from "./udp_rcvbuf_errors.ts";
import { onWanPaths, runWanTable, type WanCaseResult } from "./wan_case_run.ts";
import { selectWanCases, type WanCase } from "./wan_cases.ts";
import { caseSummaryNote, caseTableTitle, lineRow, summarizeLine } from "./wan_line_report.ts";
import { WAN_IPERF_PORT, WAN_PATHS, type WanEndpoint, type WanPathKind } from "./wan_paths.ts";

/** How a TCP WAN table is laid out: its rows, the row the others are compared with, titles. */
export interface WanTcpLayout<K extends string> {
  /** Start of each case table's title, e.g. `WAN`. */
  label: string;
  /** The rows, in order. */
  paths: readonly K[];
  /** The row of the "vs" column. */
  reference: K;
  /** Title of the summary table. */
  summaryTitle(options: BenchOptions): string;
}

/** The WAN table's layout: every path of `wan_paths.ts`, compared with `ssh -L`. */
export const WAN_LAYOUT: WanTcpLayout<WanPathKind> = {
  label: "WAN",
  paths: WAN_PATHS,
  reference: "ssh -L",
  summaryTitle: (options) =>
    `WAN: iperf3 TCP MB/s between two namespaces through the delay line, MTU 1500 ` +
    `(median of ${options.runs}, iperf3 -t ${options.durationSec})`,
};

/**
 * One iperf3 TCP run across the WAN, with the UDP datagrams both namespaces' kernels
 * dropped meanwhile for a full socket receive buffer (QUIC's UDP; TCP paths use none).
 */
export interface WanTcpRun extends Iperf3Result {
  /** `Udp: RcvbufErrors` of the left and the right namespace together, during the run. */
  rcvbufDrops: number;
}

function mbPerSecOf<K extends string>(result: WanCaseResult<K, WanTcpRun>, path: K): number[] {
  return result.runs.get(path)?.results.map((run) => run.mbPerSec) ?? [];
}

/**
 * Rows of one case: one per path (median MB/s, ratio to the layout's reference row,
 * slowest receiver second over all runs, seconds without a byte over all runs) and a last
 * `(delay line)` row.
 */
export function caseRows<K extends string>(
  result: WanCaseResult<K, WanTcpRun>,
  layout: WanTcpLayout<K>,
): BenchRow[] {
  const line = summarizeLine(result.line, result.wanCase, result.lineSilence);
  const table = caseTableTitle(layout.label, result.wanCase, line);
  const reference = medianOfKnown(mbPerSecOf(result, layout.reference));
  const rows = layout.paths.map((path): BenchRow => {
    const reason = result.unavailable.get(path);
    const runs = mbPerSecOf(result, path);
    const mbPerSec = medianOfKnown(runs);
    const intervals = result.runs.get(path)?.results.flatMap((run) => run.intervals ?? []);
    const seconds = summarizeSeconds(intervals ?? []);
    const drops = result.runs.get(path)?.results.map((run) => run.rcvbufDrops) ?? [];
    const values = {
      "MB/s": mbPerSec,
      [`vs ${layout.reference}`]: mbPerSec !== null && reference ? mbPerSec / reference : null,
      "slowest 1 s (MB/s)": reason === undefined ? seconds.slowestMbPerSec : null,
      "seconds at 0 B": reason === undefined && seconds.seconds > 0 ? seconds.zeroSeconds : null,
      "UDP rcvbuf drops/run": medianOfKnown(drops),
    };
    if (reason !== undefined) return { table, path, values, note: `unavailable: ${reason}` };
    const failed = result.runs.get(path)?.errors ?? [];
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
export function summaryRow<K extends string>(
  result: WanCaseResult<K, WanTcpRun>,
  layout: WanTcpLayout<K>,
  options: BenchOptions,
): BenchRow {
  const line = summarizeLine(result.line, result.wanCase, result.lineSilence);
  const values: Record<string, number | null> = {};
  for (const path of layout.paths) values[path] = medianOfKnown(mbPerSecOf(result, path));
  return {
    table: layout.summaryTitle(options),
    path: result.wanCase.title,
    values,
    note: caseSummaryNote(line, result.unavailable.keys()),
  };
}

/**
 * Measures the started paths of one case in interleaved runs of iperf3 TCP from the left
 * to the right namespace (receiver intervals read), `dial(path)` saying where the client
 * dials and which address the server binds.
 */
export function runTcpPaths<K extends string>(
  wan: WanPair,
  wanCase: WanCase,
  options: BenchOptions,
  started: Map<K, { server: string; dial: WanEndpoint }>,
  suite: string,
): Promise<Map<K, PathRuns<WanTcpRun>>> {
  const counts =
    async () => [await rcvbufErrorsIn(wan.left.ns), await rcvbufErrorsIn(wan.right.ns)];
  return runInterleaved(
    [...started.keys()],
    options.runs,
    async (path) => {
      const { server, dial } = started.get(path)!;
      const before = await counts();
      const run = await runIperf3({
        serverPort: WAN_IPERF_PORT,
        hostname: server,
        clientPort: dial.port,
        dialHostname: dial.hostname,
        durationSec: options.durationSec,
        parallel: wanCase.parallel,
        namespaces: { server: wan.right.ns, client: wan.left.ns },
        receiverIntervals: true,
      });
      const after = await counts();
      const [left, right] = [after[0] - before[0], after[1] - before[1]];
      // Which side's sockets overflowed: the table has their sum, the log each.
      if (left + right > 0) {
        console.error(
          `[bench] ${suite} ${wanCase.id} ${path}: rcvbuf drops left ${left}, right ${right}`,
        );
      }
      return { ...run, rcvbufDrops: left + right };
    },
    (path, run) =>
      console.error(`[bench] ${suite} ${wanCase.id} run ${run + 1}/${options.runs}: ${path}`),
  );
}

async function measureCase(
  env: BenchEnvironment,
  wanCase: WanCase,
  options: BenchOptions,
): Promise<WanCaseResult<WanPathKind, WanTcpRun>> {
  const { measured, line, lineSilence } = await onWanPaths(env, wanCase, async (wan, paths) => {
    const { started, unavailable } = await startPaths(
      WAN_PATHS,
      async (path) => ({ server: paths.target.hostname, dial: await paths.start(path) }),
    );
    return { runs: await runTcpPaths(wan, wanCase, options, started, "wan"), unavailable };
  });
  return { wanCase, ...measured, line, lineSilence };
}

/** The WAN suite: see the module documentation. */
export const wanSuite: BenchSuite = {
  name: "wan",
  description: "iperf3 TCP across an emulated WAN (delay, loss, rate cap): direct, ssh -L, " +
    "bare QUIC, tunnel, tunnel via relay (--wan-cases to choose cases)",
  run(env, options) {
    return runWanTable({
      summaryTitle: WAN_LAYOUT.summaryTitle(options),
      cases: selectWanCases(options.wanCases),
      paths: WAN_PATHS,
      measureCase: (wanCase) => measureCase(env, wanCase, options),
      summaryRow: (result) => summaryRow(result, WAN_LAYOUT, options),
      caseRows: (result) => caseRows(result, WAN_LAYOUT),
    });
  },
};
