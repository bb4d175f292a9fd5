import { ManagedProcess, runCommand, waitForTcpListener } from "../tests/harness/mod.ts";

/** Options for {@linkcode runIperf3}. */
export interface Iperf3Options {
  /** Port the one-shot iperf3 server binds (on `hostname`). */
  serverPort: number;
  /** Port the client dials: the server's own (direct) or a forwarder's. */
  clientPort: number;
  /** Test length (`-t`). */
  durationSec: number;
  /** UDP test (`-u -b <bitrate> -l <length>`); TCP when absent. */
  udp?: { bitrate: string; length: number };
  /** Address the server binds and the client dials. Default `127.0.0.1`. */
  hostname?: string;
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
  const hostname = options.hostname ?? "127.0.0.1";
  const namespaces = options.namespaces;
  // `ip netns exec` runs the command in place (exec), so stopping it stops iperf3.
  const inNamespace = (ns: string | undefined, args: string[]) =>
    ns === undefined
      ? { command: "iperf3", args }
      : { command: "ip", args: ["netns", "exec", ns, "iperf3", ...args] };
  const serverArgs = ["-s", "-1", "-p", String(options.serverPort), "-B", hostname];
  // /proc/net shows this process's namespace only: in another one, wait for iperf3's
  // own line, which --forceflush makes appear as soon as it listens.
  if (namespaces) serverArgs.push("--forceflush");
  const serverCmd = inNamespace(namespaces?.server, serverArgs);
  const server = ManagedProcess.spawn(serverCmd.command, {
    args: serverCmd.args,
    stopSignal: "SIGTERM",
    graceMs: 1_000,
  });
  try {
    // Not a probe connection: -1 would spend its one test on the probe.
    if (namespaces) await server.waitForLine(/^Server listening on /, { timeoutMs: 5_000 });
    else await waitForTcpListener(options.serverPort, { hostname, timeoutMs: 5_000 });
    const args = ["-c", hostname, "-p", String(options.clientPort)];
    args.push("-t", String(options.durationSec), "-J");
    if (options.udp) {
      args.push("-u", "-b", options.udp.bitrate, "-l", String(options.udp.length));
    }
    const clientCmd = inNamespace(namespaces?.client, args);
    const result = await runCommand(clientCmd.command, {
      args: clientCmd.args,
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
