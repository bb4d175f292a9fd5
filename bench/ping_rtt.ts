import { runCommand } from "../tests/harness/mod.ts";

/** Options for {@linkcode pingRtts}. */
export interface PingOptions {
  /** Network namespace to ping from (`ip netns exec`); default this process's. */
  ns?: string;
  /** Echo requests sent. Default 100. */
  count?: number;
  /** Seconds between requests (`-i`; below 0.2 needs root). Default 0.01. */
  intervalSec?: number;
}

// 100 requests give a stable median and a p99 that is more than the maximum of a few,
// 10 ms apart (1 s in all) so that each reply is back before the next request leaves
// on any path measured here: the requests measure latency, not queueing.
const COUNT = 100;
const INTERVAL_SEC = 0.01;
// A reply later than this is lost for the statistics (ping -W).
const REPLY_WAIT_SEC = 2;

/**
 * Round-trip times of ICMP echo requests to `ip`, in µs, one per reply. ICMP, not a TCP
 * ping-pong: a VPN carries IP packets, and the kernel answers the echo, so no
 * application's scheduling is part of the figure.
 *
 * @throws {Error} "Cannot ping <ip>: ..." when no reply came back.
 */
export async function pingRtts(ip: string, options: PingOptions = {}): Promise<number[]> {
  const count = options.count ?? COUNT;
  const interval = options.intervalSec ?? INTERVAL_SEC;
  const ping = ["ping", "-n", "-c", String(count), "-i", String(interval)];
  ping.push("-W", String(REPLY_WAIT_SEC), ip);
  const result = await runCommand(options.ns ? "ip" : ping[0], {
    args: options.ns ? ["netns", "exec", options.ns, ...ping] : ping.slice(1),
    timeoutMs: (count * interval + REPLY_WAIT_SEC + 5) * 1_000,
  });
  const rtts = parsePingTimes(result.stdout);
  if (rtts.length === 0) {
    const why = result.stderr.trim().split("\n")[0] || `no replies (exit code ${result.code})`;
    throw new Error(`Cannot ping ${ip}: ${why}`);
  }
  return rtts;
}

/**
 * The `time=` of each reply line of iputils `ping` output, in µs, in order. Other
 * lines (header, summary, errors) are skipped.
 */
export function parsePingTimes(output: string): number[] {
  const times: number[] = [];
  for (const line of output.split("\n")) {
    const match = /^\d+ bytes from .* time[=<]([\d.]+) ms$/.exec(line.trim());
    if (match) times.push(Number(match[1]) * 1_000);
  }
  return times;
}
