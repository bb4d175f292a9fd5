import { ManagedProcess, runCommand, waitForTcpListener } from "../tests/harness/mod.ts";
import { type ReceiverInterval, receiverIntervals } from "./iperf3_seconds.ts";
import { waitForListenerInNamespace } from "./namespace_listener.ts";

/** Options for {@linkcode runIperf3}. */
export interface Iperf3Options {
  /** Port the one-shot iperf3 server binds (on `hostname`). */
  serverPort: number;
  /** Port the client dials: the server's own (direct) or a forwarder's. */
  clientPort: number;
  /** Test length (`-t`). */
  durationSec: number;
  /** Parallel client streams (`-P`); one when absent. */
  parallel?: number;
  /** UDP test (`-u -b <bitrate> -l <length>`); TCP when absent. */
  udp?: { bitrate: string; length: number };
  /** Address the server binds and the client dials. Default `127.0.0.1`. */
  hostname?: string;
  /**
   * Address the client dials when it is not the server's (a forwarder's local address,
   * `clientPort` on it). Default `hostname`.
   */
  dialHostname?: string;
  /**
   * Also read the receiver's per-second intervals (`iperf3 -s -J`, client
   * `--get-server-output`) into {@linkcode Iperf3Result.intervals}.
   */
  receiverIntervals?: boolean;
  /**
   * Run the server and the client in these network namespaces (`ip netns exec`), for
   * paths between two hosts of a test bed. Default: both in this process's namespace.
   */
  namespaces?: { server: string; client: string };
}

/** One iperf3 measurement, receiver side. */
export interface Iperf3Result {
  /** Received megabytes (10^6) per second. */
  mbPerSec: number;
  /** UDP only: lost datagrams in percent, as the server counted them. */
  lostPercent: number | null;
  /** UDP only: jitter in milliseconds. */
  jitterMs: number | null;
  /** UDP only: datagrams that arrived per second (sent minus lost, over the test time). */
  datagramsPerSec: number | null;
  /** The receiver's intervals when `receiverIntervals` was asked for, else null. */
  intervals: ReceiverInterval[] | null;
}

// An iperf3 report is a few kB per stream and interval: 50 streams for 60 s stay far
// under this, so anything larger is not iperf3's.
const MAX_REPORT_CHARS = 16 << 20;

/**
 * Reads the receiver's figures from `iperf3 -c -J` output: `end.sum_received` (or
 * `end.sum` of older versions), which for UDP carries the server's loss count.
 *
 * @param text the client's stdout
 * @param options `udp`: read loss, jitter and datagrams too; `noJson`: the reason
 * given when `text` is not JSON (e.g. the client's stderr); `receiverIntervals`: read
 * the server's intervals (`--get-server-output`)
 * @throws {Error} "Cannot run iperf3: ..." for output that is not a report, a report
 * with an `error`, or one without the receiver's sums.
 */
export function parseIperf3Json(
  text: string,
  options: { udp: boolean; noJson?: string; receiverIntervals?: boolean },
): Iperf3Result {
  // deno-lint-ignore no-explicit-any
  let report: any;
  try {
    if (text.length > MAX_REPORT_CHARS) throw new Error("too large");
    report = JSON.parse(text);
  } catch {
    throw new Error(`Cannot run iperf3: ${options.noJson ?? "no JSON output"}`);
  }
  if (typeof report?.error === "string") throw new Error(`Cannot run iperf3: ${report.error}`);
  const sum = report?.end?.sum_received ?? report?.end?.sum;
  const number = (value: unknown) => typeof value === "number" && Number.isFinite(value);
  if (!number(sum?.bits_per_second)) {
    throw new Error("Cannot run iperf3: no end.sum_received in its JSON");
  }
  const udp = options.udp;
  const arrived = udp && number(sum.packets) && number(sum.lost_packets) && sum.seconds > 0
    ? (sum.packets - sum.lost_packets) / sum.seconds
    : null;
  return {
    mbPerSec: sum.bits_per_second / 8 / 1e6,
    lostPercent: udp && number(sum.lost_percent) ? sum.lost_percent : null,
    jitterMs: udp && number(sum.jitter_ms) ? sum.jitter_ms : null,
    datagramsPerSec: arrived,
    intervals: options.receiverIntervals ? receiverIntervals(report) : null,
  };
}

// iperf3 runs a few seconds longer than -t (connect, result exchange); past this it hangs.
const CLIENT_SLACK_SEC = 12;

/**
 * Runs `iperf3 -s -1` on `serverPort` and `iperf3 -c ... -J` against `clientPort`,
 * and reads the receiver's figures from the client's JSON ({@linkcode parseIperf3Json}).
 *
 * @throws {Error} "Cannot run iperf3: ..." when the client fails or its JSON has an error.
 */
export async function runIperf3(options: Iperf3Options): Promise<Iperf3Result> {
  const hostname = options.hostname ?? "127.0.0.1";
  const namespaces = options.namespaces;
  // `ip netns exec` runs the command in place (exec), so stopping it stops iperf3.
  const inNamespace = (ns: string | undefined, args: string[]) =>
    ns === undefined
      ? { command: "iperf3", args }
      : { command: "ip", args: ["netns", "exec", ns, "iperf3", ...args] };
  const serverArgs = ["-s", "-1", "-p", String(options.serverPort), "-B", hostname];
  // /proc/net shows this process's namespace only: in another one, wait for iperf3's
  // own line, which --forceflush makes appear as soon as it listens. A server in JSON
  // mode prints nothing until it is done: then ask `ss` in its namespace.
  const json = options.receiverIntervals === true;
  if (json) serverArgs.push("-J");
  else if (namespaces) serverArgs.push("--forceflush");
  const serverCmd = inNamespace(namespaces?.server, serverArgs);
  const server = ManagedProcess.spawn(serverCmd.command, {
    args: serverCmd.args,
    stopSignal: "SIGTERM",
    graceMs: 1_000,
  });
  try {
    // Not a probe connection: -1 would spend its one test on the probe.
    const port = options.serverPort;
    if (namespaces && json) {
      await waitForListenerInNamespace(namespaces.server, port, { hostname, timeoutMs: 5_000 });
    } else if (namespaces) {
      await server.waitForLine(/^Server listening on /, { timeoutMs: 5_000 });
    } else await waitForTcpListener(port, { hostname, timeoutMs: 5_000 });
    const args = ["-c", options.dialHostname ?? hostname, "-p", String(options.clientPort)];
    if (json) args.push("--get-server-output");
    args.push("-t", String(options.durationSec), "-J");
    if (options.parallel !== undefined) args.push("-P", String(options.parallel));
    if (options.udp) {
      args.push("-u", "-b", options.udp.bitrate, "-l", String(options.udp.length));
    }
    const clientCmd = inNamespace(namespaces?.client, args);
    const result = await runCommand(clientCmd.command, {
      args: clientCmd.args,
      timeoutMs: (options.durationSec + CLIENT_SLACK_SEC) * 1_000,
    });
    const why = result.timedOut ? "timed out" : result.stderr.trim() || "no JSON output";
    return parseIperf3Json(result.stdout, {
      udp: options.udp !== undefined,
      noJson: why,
      receiverIntervals: json,
    });
  } finally {
    await server.stop();
  }
}
