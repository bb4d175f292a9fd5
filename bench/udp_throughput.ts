import { freePort } from "../tests/harness/mod.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { runIperf3 } from "./iperf3.ts";

// 160 Mbit/s is 20 MB/s, the target rate for UDP through the tunnel: a heavy
// WireGuard-style user, well under the ~100k packets/s a JavaScript packet path
// manages (see shared/NOTES.md).
const BITRATE = "160M";
// 1000 fits a QUIC datagram (max ~1162 bytes on loopback); 1400 does not, so it shows
// how the tunnel handles datagrams larger than its QUIC datagram size.
const LENGTHS = [1000, 1400];

/**
 * UDP through the tunnel vs direct with iperf3 at a fixed offered rate: received
 * MB/s, loss and jitter as the iperf3 server counted them.
 */
export const udpThroughput: BenchSuite = {
  name: "udp-throughput",
  description: `iperf3 UDP -b ${BITRATE} -l ${
    LENGTHS.join("/")
  }: MB/s and loss, direct vs tunnel (direct and via relay)`,
  async run(env, options) {
    const table = `UDP (iperf3 -u -b ${BITRATE}, ${options.durationSec} s)`;
    // iperf3 uses TCP (control) and UDP (data) on the same port number.
    const iperfPort = freePort({ transport: "tcp+udp" });
    const tunnelPorts = {
      tunnel: freePort({ transport: "tcp+udp" }),
      "tunnel via relay": freePort({ transport: "tcp+udp" }),
    };
    const rows: BenchRow[] = [];
    for (const length of LENGTHS) {
      for (const path of ["direct", "tunnel", "tunnel via relay"] as const) {
        const label = `${path} -l ${length}`;
        try {
          const port = path === "direct"
            ? iperfPort
            : await tunnelUdpPort(env, path, iperfPort, tunnelPorts[path]);
          const result = await runIperf3({
            serverPort: iperfPort,
            clientPort: port,
            durationSec: options.durationSec,
            udp: { bitrate: BITRATE, length },
          });
          rows.push({
            table,
            path: label,
            values: {
              "MB/s": result.mbPerSec,
              "loss %": result.lostPercent,
              "jitter ms": result.jitterMs,
            },
          });
        } catch (error) {
          rows.push({
            table,
            path: label,
            values: { "MB/s": null, "loss %": null, "jitter ms": null },
            note: `unavailable: ${reasonOf(error)}`,
          });
        }
      }
    }
    return rows;
  },
};

/**
 * Local port through which iperf3 reaches its server at 127.0.0.1:`iperfPort` over a
 * tunnel path: its control connection needs a TCP tunnel and its data a UDP tunnel,
 * both on `localPort` (the environment starts each once and reuses it).
 *
 * @throws {PathUnavailable} when either tunnel cannot be set up.
 */
export async function tunnelUdpPort(
  env: BenchEnvironment,
  path: "tunnel" | "tunnel via relay",
  iperfPort: number,
  localPort: number,
): Promise<number> {
  await env.forward(path, iperfPort, { transport: "tcp", localPort });
  await env.forward(path, iperfPort, { transport: "udp", localPort });
  return localPort;
}
