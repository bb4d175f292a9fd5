import { freePort } from "../tests/harness/mod.ts";
import { type PathKind, TCP_PATHS } from "./bench_environment.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { runIperf3 } from "./iperf3.ts";
import { formatValue } from "./markdown_table.ts";
import { median } from "./stats.ts";

/**
 * Connections of the parallel table. 50 stands for a busy user (a browser opens a
 * few dozen at once) and is what issue 14 asks to compare with `ssh -L`; well under
 * the tunnel's 1,024 concurrent streams.
 */
const PARALLEL_CONNECTIONS = 50;

/** What one iperf3 TCP table measures. */
interface ThroughputTable {
  name: string;
  description: string;
  title: (durationSec: number, runs: number) => string;
  paths: readonly PathKind[];
  /** iperf3 -P; one connection when absent. */
  parallel?: number;
}

/**
 * TCP bulk throughput with iperf3 through each path. Runs are interleaved (every path
 * once, then again) so slow drift of a noisy machine hits all paths alike; the median
 * is reported with its ratios to `ssh -L` and to bare QUIC.
 */
function throughputSuite(spec: ThroughputTable): BenchSuite {
  return {
    name: spec.name,
    description: spec.description,
    async run(env, options) {
      const table = spec.title(options.durationSec, options.runs);
      const paths = spec.paths;
      const iperfPort = freePort();
      const ports = new Map<PathKind, number>();
      const unavailable = new Map<PathKind, string>();
      for (const path of paths) {
        try {
          ports.set(path, await env.forward(path, iperfPort));
        } catch (error) {
          unavailable.set(path, reasonOf(error));
        }
      }
      const samples = new Map<PathKind, number[]>(paths.map((path) => [path, []]));
      const errors = new Map<PathKind, string[]>(paths.map((path) => [path, []]));
      for (let run = 0; run < options.runs; run++) {
        for (const [path, port] of ports) {
          try {
            const result = await runIperf3({
              serverPort: iperfPort,
              clientPort: port,
              durationSec: options.durationSec,
              parallel: spec.parallel,
            });
            samples.get(path)!.push(result.mbPerSec);
          } catch (error) {
            errors.get(path)!.push(reasonOf(error));
          }
        }
      }
      const ssh = median(samples.get("ssh -L") ?? []);
      const bare = median(samples.get("bare QUIC") ?? []);
      const ratio = (value: number | null, base: number) =>
        value !== null && base > 0 ? value / base : null;
      return paths.map((path): BenchRow => {
        const reason = unavailable.get(path);
        if (reason !== undefined) {
          return {
            table,
            path,
            values: { "MB/s": null, "vs ssh -L": null, "vs bare QUIC": null },
            note: `unavailable: ${reason}`,
          };
        }
        const runs = samples.get(path)!;
        const mbPerSec = runs.length > 0 ? median(runs) : null;
        const failed = errors.get(path)!;
        const note = [
          runs.length > 0 ? `runs: ${runs.map(formatValue).join(" / ")}` : "",
          failed.length > 0 ? `${failed.length} failed: ${failed[0]}` : "",
        ].filter(Boolean).join("; ");
        return {
          table,
          path,
          values: {
            "MB/s": mbPerSec,
            "vs ssh -L": ratio(mbPerSec, ssh),
            "vs bare QUIC": ratio(mbPerSec, bare),
          },
          note,
        };
      });
    },
  };
}

/** One iperf3 connection through direct, socat, `ssh -L`, bare QUIC and the tunnel paths. */
export const tcpThroughput: BenchSuite = throughputSuite({
  name: "tcp-throughput",
  description:
    "iperf3 TCP MB/s: direct, socat, ssh -L, bare QUIC, tunnel (median, ratio to ssh -L)",
  title: (sec, runs) => `TCP throughput (iperf3, ${sec} s, median of ${runs})`,
  paths: TCP_PATHS,
});

/** 50 iperf3 connections at once (`-P 50`), aggregate MB/s, the tunnel beside `ssh -L`. */
export const tcpParallel: BenchSuite = throughputSuite({
  name: "tcp-parallel",
  description:
    `iperf3 -P ${PARALLEL_CONNECTIONS} aggregate TCP MB/s: direct, ssh -L, bare QUIC, tunnel`,
  title: (sec, runs) =>
    `TCP throughput, ${PARALLEL_CONNECTIONS} connections (iperf3 -P ${PARALLEL_CONNECTIONS}, ${sec} s, median of ${runs})`,
  paths: ["direct", "ssh -L", "bare QUIC", "tunnel"],
  parallel: PARALLEL_CONNECTIONS,
});
