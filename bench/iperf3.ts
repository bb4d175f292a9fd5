import { ManagedProcess, runCommand, waitForTcpListener } from "../tests/harness/mod.ts";

/** Options for {@linkcode runIperf3}. */
export interface Iperf3Options {
  /** Port the one-shot iperf3 server binds on 127.0.0.1. */
  serverPort: number;
  /** Port the client dials: the server's own (direct) or a forwarder's. */
  clientPort: number;
  /** Test length (`-t`). */
  durationSec: number;
  /** UDP test (`-u -b <bitrate> -l <length>`); TCP when absent. */
  udp?: { bitrate: string; length: number };
}

/** One iperf3 measurement, receiver side. */
export interface Iperf3Result {
  /** Received megabytes (10^6) per second. */
  mbPerSec: number;
  /** UDP only: lost datagrams in percent, as the server counted them. */
  lostPercent: number | null;
  /** UDP only: jitter in milliseconds. */
  jitterMs: number | null;
}

// iperf3 runs a few seconds longer than -t (connect, result exchange); past this it hangs.
const CLIENT_SLACK_SEC = 12;

/**
 * Runs `iperf3 -s -1` on `serverPort` and `iperf3 -c ... -J` against `clientPort`,
 * and reads the receiver's figures from the client's JSON (`end.sum_received`, which
 * for UDP carries the server's loss count).
 *
 * @throws {Error} "Cannot run iperf3: ..." when the client fails or its JSON has an error.
 */
export async function runIperf3(options: Iperf3Options): Promise<Iperf3Result> {
  const server = ManagedProcess.spawn("iperf3", {
    args: ["-s", "-1", "-p", String(options.serverPort), "-B", "127.0.0.1"],
    stopSignal: "SIGTERM",
    graceMs: 1_000,
  });
  try {
    // Not a probe connection: -1 would spend its one test on the probe.
    await waitForTcpListener(options.serverPort, { timeoutMs: 5_000 });
    const args = ["-c", "127.0.0.1", "-p", String(options.clientPort)];
    args.push("-t", String(options.durationSec), "-J");
    if (options.udp) {
      args.push("-u", "-b", options.udp.bitrate, "-l", String(options.udp.length));
    }
    const result = await runCommand("iperf3", {
      args,
      timeoutMs: (options.durationSec + CLIENT_SLACK_SEC) * 1_000,
    });
    // deno-lint-ignore no-explicit-any
    let report: any;
    try {
      report = JSON.parse(result.stdout);
    } catch {
      const why = result.timedOut ? "timed out" : result.stderr.trim() || "no JSON output";
      throw new Error(`Cannot run iperf3: ${why}`);
    }
    if (report.error) throw new Error(`Cannot run iperf3: ${report.error}`);
    const sum = report.end?.sum_received ?? report.end?.sum;
    if (typeof sum?.bits_per_second !== "number") {
      throw new Error("Cannot run iperf3: no end.sum_received in its JSON");
    }
    return {
      mbPerSec: sum.bits_per_second / 8 / 1e6,
      lostPercent: options.udp ? sum.lost_percent ?? null : null,
      jitterMs: options.udp ? sum.jitter_ms ?? null : null,
    };
  } finally {
    await server.stop();
  }
}
