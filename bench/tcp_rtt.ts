import { type PathKind, TCP_PATHS } from "./bench_environment.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { median, percentile } from "./stats.ts";

const PATHS = TCP_PATHS;
// Warm-up round trips (connection set-up, JIT, first QUIC stream) are not measured.
const WARMUP = 200;
const ROUND_TRIPS = 2_000;
const TIME_LIMIT_MS = 20_000;

/** Options for {@linkcode pingPong}. */
export interface PingPongOptions {
  /** Unmeasured round trips first. Default 200. */
  warmup?: number;
  /** Measured round trips. Default 2,000. */
  count?: number;
  /** Stop (with what was measured) after this long. Default 20,000 ms. */
  timeoutMs?: number;
}

/**
 * One connection to a TCP echo service at 127.0.0.1:`port`; writes 1 byte and waits
 * for it to come back, `warmup + count` times. Returns the measured round trips in µs.
 *
 * @throws {Error} "Cannot ping-pong: ..." when the echo closes or nothing was measured.
 */
export async function pingPong(port: number, options: PingPongOptions = {}): Promise<number[]> {
  const warmup = options.warmup ?? WARMUP;
  const count = options.count ?? ROUND_TRIPS;
  const timeoutMs = options.timeoutMs ?? TIME_LIMIT_MS;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  let closed = false;
  // A path that swallows the byte would block read() forever: closing ends it.
  const timer = setTimeout(() => {
    closed = true;
    conn.close();
  }, timeoutMs);
  const ping = new Uint8Array([0x2a]);
  const pong = new Uint8Array(1);
  const samples: number[] = [];
  try {
    // Bounded by warmup + count turns and by the timer.
    for (let i = 0; i < warmup + count; i++) {
      const started = performance.now();
      await conn.write(ping);
      if ((await conn.read(pong)) === null) throw new Error("Cannot ping-pong: the echo closed");
      if (i >= warmup) samples.push((performance.now() - started) * 1_000);
    }
  } catch (error) {
    if (!closed) throw error;
  } finally {
    clearTimeout(timer);
    if (!closed) conn.close();
  }
  if (samples.length === 0) {
    throw new Error(`Cannot ping-pong: nothing measured in ${timeoutMs} ms`);
  }
  return samples;
}

/**
 * Added round-trip time: 1-byte ping-pong to an echo server, direct and through each
 * path; the tunnel's cost is its median minus the direct median.
 */
export const tcpRtt: BenchSuite = {
  name: "tcp-rtt",
  description: "1-byte TCP ping-pong RTT (median, p99) and added RTT over direct",
  async run(env) {
    const table = `TCP round trip, 1 byte (${ROUND_TRIPS} after ${WARMUP} warm-up)`;
    const echoPort = env.echoPort();
    const results = new Map<PathKind, number[] | string>();
    for (const path of PATHS) {
      try {
        results.set(path, await pingPong(await env.forward(path, echoPort)));
      } catch (error) {
        results.set(path, reasonOf(error));
      }
    }
    const direct = results.get("direct");
    const directMedian = Array.isArray(direct) ? median(direct) : Number.NaN;
    return PATHS.map((path): BenchRow => {
      const result = results.get(path)!;
      if (!Array.isArray(result)) {
        return {
          table,
          path,
          values: { "median µs": null, "p99 µs": null, "added µs": null },
          note: `unavailable: ${result}`,
        };
      }
      const mid = median(result);
      return {
        table,
        path,
        values: {
          "median µs": mid,
          "p99 µs": percentile(result, 99),
          "added µs": path === "direct" ? null : mid - directMedian,
        },
        note: result.length < ROUND_TRIPS ? `only ${result.length} round trips in time` : "",
      };
    });
  },
};
