/**
 * A relay-only tunnel through Tor beside the same tunnel through the relay
 * reached directly, in one run: `tunnel relay` on loopback, once dialed as is
 * and once as an onion service of a private Tor network (tests/netns/
 * tor_network.ts: 3 authorities, 5 relays, no way out), each side through its
 * own tor's SocksPort. Echo throughput (5 MB, checksummed) and the 1-byte round
 * trip through the tunnel say what Tor's circuits (6 hops between a client and
 * an onion service) cost over the relay path; loopback has no distance, so
 * the difference is Tor's own work and queueing, not a WAN's.
 * @module
 */
import { generateToken } from "../core/auth/mod.ts";
import {
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../tests/harness/mod.ts";
import { startTorNetwork, torNetworkUnsupported } from "../tests/netns/tor_network.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { median } from "./stats.ts";
import { pingPong } from "./tcp_rtt.ts";

/** Bytes echoed per throughput run. */
const PAYLOAD = 5_000_000;
/** Throughput runs per path (the median is reported). */
const RUNS = 3;

/** See the module documentation. */
export const torSuite: BenchSuite = {
  name: "tor",
  description:
    "relay-only tunnel through a private Tor network's onion service beside the relay reached directly: echo MB/s and 1-byte RTT",
  async run() {
    const table = "Relay path through Tor (private Tor network, loopback)";
    const unavailable = (note: string): BenchRow[] =>
      ["relay", "relay through Tor (onion service)"].map((path) => ({
        table,
        path,
        values: { "MB/s": null, "rtt ms": null },
        note: `unavailable: ${note}`,
      }));
    const unsupported = torNetworkUnsupported();
    if (unsupported) return unavailable(unsupported);
    const relay = await startLocalRelay();
    await using _relay = relay.proc;
    await using echo = startTcpEchoServer();
    let tor;
    try {
      tor = await startTorNetwork({
        hiddenServices: [{ port: Number(new URL(relay.url).port), virtualPort: 80 }],
        clients: 2,
      });
    } catch (error) {
      return unavailable(reasonOf(error));
    }
    try {
      const proxy = (i: number) => `socks5h://${tor.socks(i).hostname}:${tor.socks(i).port}`;
      const onion = `http://${tor.onion(0)}/`;
      const paths: [string, string[], string[]][] = [
        ["relay", ["--relay-url", relay.url], ["--relay-url", relay.url]],
        [
          "relay through Tor (onion service)",
          ["--relay-url", onion, "--socks5-proxy", proxy(0)],
          ["--relay-url", onion, "--socks5-proxy", proxy(1)],
        ],
      ];
      const rows: BenchRow[] = [];
      for (const [path, serverArgs, clientArgs] of paths) {
        try {
          rows.push({ table, path, ...await measurePath(echo.port, serverArgs, clientArgs) });
        } catch (error) {
          rows.push({
            table,
            path,
            values: { "MB/s": null, "rtt ms": null },
            note: `unavailable: ${reasonOf(error)}`,
          });
        }
      }
      return rows;
    } finally {
      await tor.stop();
    }
  },
};

async function measurePath(
  echoPort: number,
  serverArgs: string[],
  clientArgs: string[],
): Promise<Pick<BenchRow, "values" | "note">> {
  const token = generateToken();
  await using server = await startServer({
    authTokens: token,
    extraArgs: [...serverArgs, "--relay-only"],
    timeoutMs: 90_000,
  });
  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echoPort}`,
    authToken: token,
    extraArgs: [...clientArgs, "--relay-only"],
    timeoutMs: 90_000,
  });
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = await transferPayload(client.localPort, PAYLOAD);
    if (result.received.sha256 !== result.sent.sha256) {
      throw new Error("the echo came back different");
    }
    // Bytes each way over the whole exchange's time.
    rates.push(PAYLOAD / 1e6 / (result.ms / 1000));
  }
  const roundTrips = await pingPong(client.localPort, {
    warmup: 20,
    count: 200,
    timeoutMs: 30_000,
  });
  return {
    values: {
      "MB/s": Math.round(median(rates) * 10) / 10,
      "rtt ms": Math.round(median(roundTrips) / 100) / 10,
    },
    note: `${RUNS} echoes of ${PAYLOAD / 1e6} MB: ${
      rates.map((rate) => rate.toFixed(1)).join(", ")
    } MB/s; rtt median of ${roundTrips.length}`,
  };
}
