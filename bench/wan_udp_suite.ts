/**
 * The WAN UDP table (`deno task bench --only wan-udp`, issue 20): iperf3 UDP at 20 MB/s
 * (`-u -b 160M -l 1000`) from the left to the right namespace of a WAN pair, direct and
 * through the tunnel's UDP forwarding (direct path and via `tunnel relay`), for each case
 * of `wan_udp_cases.ts`. Received MB/s, loss and jitter are the iperf3 server's own
 * figures; beside them, the datagrams the kernel dropped at full socket receive buffers
 * in the left and the right namespace during the run (`Udp: RcvbufErrors`). One WAN pair per case, runs interleaved, medians; each case also gets a row
 * with the delay line's counters.
 * @module
 */
import type { WanPair } from "../tests/netns/wan/wan_pair.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import type { BenchOptions, BenchRow, BenchSuite } from "./bench_suite.ts";
import { type Iperf3Result, runIperf3 } from "./iperf3.ts";
import { formatValue } from "./markdown_table.ts";
import { runInterleaved, startPaths } from "./path_runs.ts";
import { medianOfKnown } from "./stats.ts";
import { arrivedMbPerSec } from "./udp_rate.ts";
import { rcvbufErrorsIn } from "./udp_rcvbuf_errors.ts";
import type { WanCase } from "./wan_cases.ts";
import { onWanPaths, runWanTable, type WanCaseResult } from "./wan_case_run.ts";
import { caseSummaryNote, caseTableTitle, lineRow, summarizeLine } from "./wan_line_report.ts";
import { WAN_UDP_PATHS, type WanUdpPathKind } from "./wan_paths.ts";
import { WAN_UDP_CASES } from "./wan_udp_cases.ts";

// 160 Mbit/s is 20 MB/s, the loopback UDP table's rate (udp_throughput.ts).
const BITRATE = "160M";
// 1000 bytes fit one QUIC datagram of the tunnel at the initial 1200-byte QUIC MTU.
const LENGTH = 1000;

/** One run of one path: iperf3's figures and the sockets' overflow drops during it. */
export interface UdpRun {
  /** The iperf3 server's figures. */
  iperf3: Iperf3Result;
  /** Datagrams dropped at full socket receive buffers in each namespace during the run. */
  rcvbufErrors: { left: number; right: number };
}

/** What one case of the WAN UDP table measured. */
export type WanUdpCaseResult = WanCaseResult<WanUdpPathKind, UdpRun>;

/** Title of the summary table. */
export function udpSummaryTitle(options: BenchOptions): string {
  return `WAN UDP: iperf3 -u -b ${BITRATE} -l ${LENGTH} between two namespaces through the ` +
    `delay line, MTU 1500 (median of ${options.runs}, -t ${options.durationSec})`;
}

function medians(runs: readonly UdpRun[]) {
  const results = runs.map((run) => run.iperf3);
  return {
    "MB/s": medianOfKnown(results.map((result) => arrivedMbPerSec(result, LENGTH))),
    "loss %": medianOfKnown(results.map((result) => result.lostPercent)),
    "jitter ms": medianOfKnown(results.map((result) => result.jitterMs)),
    "rcvbuf drops left": medianOfKnown(runs.map((run) => run.rcvbufErrors.left)),
    "rcvbuf drops right": medianOfKnown(runs.map((run) => run.rcvbufErrors.right)),
  };
}

/**
 * Rows of one case: one per path (medians of received MB/s, loss % and jitter ms as the
 * iperf3 server counted them, and of each namespace's receive-buffer drops; each run in
 * the note) and a last `(delay line)` row.
 */
export function udpCaseRows(result: WanUdpCaseResult): BenchRow[] {
  const line = summarizeLine(result.line, result.wanCase, result.lineSilence);
  const table = caseTableTitle("WAN UDP", result.wanCase, line);
  const rows = WAN_UDP_PATHS.map((path): BenchRow => {
    const { results, errors } = result.runs.get(path) ?? { results: [], errors: [] };
    const values = medians(results);
    const reason = result.unavailable.get(path);
    if (reason !== undefined) return { table, path, values, note: `unavailable: ${reason}` };
    const note = [
      results.length > 0
        ? `runs: ${
          results.map(({ iperf3: r, rcvbufErrors: drops }) =>
            `${formatValue(arrivedMbPerSec(r, LENGTH))} MB/s ${formatValue(r.lostPercent)}% ` +
            `${formatValue(r.jitterMs)} ms, rcvbuf ${drops.left}/${drops.right}`
          ).join(" / ")
        }`
        : "",
      errors.length > 0 ? `${errors.length} failed: ${errors[0]}` : "",
    ].filter(Boolean).join("; ");
    return { table, path, values, note };
  });
  rows.push(lineRow(table, line));
  return rows;
}

/** The summary table's row of one case: median received MB/s and loss % per path. */
export function udpSummaryRow(result: WanUdpCaseResult, options: BenchOptions): BenchRow {
  const line = summarizeLine(result.line, result.wanCase, result.lineSilence);
  const values: Record<string, number | null> = {};
  for (const path of WAN_UDP_PATHS) {
    const medianOf = medians(result.runs.get(path)?.results ?? []);
    values[`${path} MB/s`] = medianOf["MB/s"];
    values[`${path} loss %`] = medianOf["loss %"];
  }
  return {
    table: udpSummaryTitle(options),
    path: result.wanCase.title,
    values,
    note: caseSummaryNote(line, result.unavailable.keys()),
  };
}

async function rcvbufErrorsOf(wan: WanPair): Promise<{ left: number; right: number }> {
  return { left: await rcvbufErrorsIn(wan.left.ns), right: await rcvbufErrorsIn(wan.right.ns) };
}

async function measureCase(
  env: BenchEnvironment,
  wanCase: WanCase,
  options: BenchOptions,
): Promise<WanUdpCaseResult> {
  const { measured, line, lineSilence } = await onWanPaths(env, wanCase, async (wan, paths) => {
    const { started, unavailable } = await startPaths(
      WAN_UDP_PATHS,
      (path) => paths.startUdp(path),
    );
    const runs = await runInterleaved(
      [...started.keys()],
      options.runs,
      async (path): Promise<UdpRun> => {
        const endpoint = started.get(path)!;
        const before = await rcvbufErrorsOf(wan);
        const iperf3 = await runIperf3({
          serverPort: paths.target.port,
          hostname: paths.target.hostname,
          clientPort: endpoint.port,
          dialHostname: endpoint.hostname,
          durationSec: options.durationSec,
          udp: { bitrate: BITRATE, length: LENGTH },
          namespaces: { server: wan.right.ns, client: wan.left.ns },
        });
        const after = await rcvbufErrorsOf(wan);
        return {
          iperf3,
          rcvbufErrors: { left: after.left - before.left, right: after.right - before.right },
        };
      },
      (path, run) =>
        console.error(`[bench] wan-udp ${wanCase.id} run ${run + 1}/${options.runs}: ${path}`),
    );
    return { runs, unavailable };
  });
  return { wanCase, ...measured, line, lineSilence };
}

/** The WAN UDP suite: see the module documentation. */
export const wanUdpSuite: BenchSuite = {
  name: "wan-udp",
  description: `iperf3 UDP -b ${BITRATE} -l ${LENGTH} across an emulated WAN (delay, loss, ` +
    `jitter): direct, tunnel, tunnel via relay (MB/s, loss, jitter)`,
  run(env, options) {
    return runWanTable({
      summaryTitle: udpSummaryTitle(options),
      cases: WAN_UDP_CASES,
      paths: WAN_UDP_PATHS,
      measureCase: (wanCase) => measureCase(env, wanCase, options),
      summaryRow: (result) => udpSummaryRow(result, options),
      caseRows: udpCaseRows,
    });
  },
};
