import { freePort } from "../tests/harness/mod.ts";
import type { PathKind } from "./bench_environment.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { runIperf3 } from "./iperf3.ts";
import { formatValue } from "./markdown_table.ts";
import { median } from "./stats.ts";

const PATHS: PathKind[] = [
  "direct",
  "socat",
  "ssh -L",
  "tunnel",
  "tunnel via relay",
  "tunnel punched",
];

/**
 * TCP bulk throughput with iperf3 through each path. Runs are interleaved (every path
 * once, then again) so slow drift of a noisy machine hits all paths alike; the median
 * is reported with its ratio to `ssh -L`.
 */
export const tcpThroughput: BenchSuite = {
  name: "tcp-throughput",
  description: "iperf3 TCP MB/s: direct, socat, ssh -L, tunnel (median, ratio to ssh -L)",
  async run(env, options) {
    const table = `TCP throughput (iperf3, ${options.durationSec} s, median of ${options.runs})`;
    const iperfPort = freePort();
    const ports = new Map<PathKind, number>();
    const unavailable = new Map<PathKind, string>();
    for (const path of PATHS) {
      try {
        ports.set(path, await env.forward(path, iperfPort));
      } catch (error) {
        unavailable.set(path, reasonOf(error));
      }
    }
    const samples = new Map<PathKind, number[]>(PATHS.map((path) => [path, []]));
    const errors = new Map<PathKind, string[]>(PATHS.map((path) => [path, []]));
    for (let run = 0; run < options.runs; run++) {
      for (const [path, port] of ports) {
        try {
          const result = await runIperf3({
            serverPort: iperfPort,
            clientPort: port,
            durationSec: options.durationSec,
          });
          samples.get(path)!.push(result.mbPerSec);
        } catch (error) {
          errors.get(path)!.push(reasonOf(error));
        }
      }
    }
    const ssh = median(samples.get("ssh -L")!);
    return PATHS.map((path): BenchRow => {
      const reason = unavailable.get(path);
      if (reason !== undefined) {
        return {
          table,
          path,
          values: { "MB/s": null, "vs ssh -L": null },
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
          "vs ssh -L": mbPerSec !== null && ssh > 0 ? mbPerSec / ssh : null,
        },
        note,
      };
    });
  },
};
