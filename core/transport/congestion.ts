/**
 * Which QUIC congestion controller a path gets. Deno offers a choice per
 * connection; the right one depends on what the path crosses, not on the mode
 * that made it. Figures: docs/BENCHMARKS.md, "Congestion control per path".
 * @module
 */
import { isLocalAddress } from "../net/mod.ts";

/**
 * Deno's QUIC congestion controllers: `"default"` and `"throughput"` are
 * Cubic-like (they halve their window on every loss), `"low-latency"` is BBR
 * (it paces to the bottleneck rate it measures, so random loss does not stop it).
 */
export type CongestionControl = "default" | "throughput" | "low-latency";

/**
 * A path that crosses real networks (a direct dial, an ICE-punched path): BBR.
 * Bare QUIC, one stream, on an emulated WAN between network namespaces (MB/s,
 * Cubic -> BBR): 80 ms RTT with 0.5% loss 0.39-0.67 with whole seconds of zero
 * bytes -> 5.7-6.3; with 1% loss 0.39-0.43 -> 6.2-6.4; without loss 20 ms
 * 10.2-10.9 -> 13.0-14.5, 150 ms 1.6-3.9 -> 3.0 (80 ms about equal). The tunnel at
 * 80 ms with 0.5% loss: figures in docs/BENCHMARKS.md.
 */
export const NETWORK_PATH_CONGESTION_CONTROL: CongestionControl = "low-latency";

/**
 * A path that stays on this machine or its local network (loopback, RFC 1918
 * private, link-local and IPv6 unique-local addresses): Deno's default. Such a
 * path has round trips under a millisecond, and there BBR overruns the receiving
 * socket, which Deno leaves at the kernel's default buffer (BBR does not slow down
 * for those drops): the tunnel between two namespaces without delay moved 88-94
 * MB/s with BBR (470,000 datagrams dropped at the receiving socket in 6 s) against
 * 129-134 MB/s with the default; bare QUIC on loopback 48/63/42 MB/s against
 * 61/75/57, the tunnel through a relay on this machine 22 against 47 MB/s.
 */
export const LOCAL_PATH_CONGESTION_CONTROL: CongestionControl = "default";

/**
 * The controller for a path to (or from) `hostname`, by what the path crosses: a
 * local address (see {@linkcode LOCAL_PATH_CONGESTION_CONTROL}) or anything else,
 * names and wildcards included ({@linkcode NETWORK_PATH_CONGESTION_CONTROL}).
 */
export function congestionControlToward(hostname: string): CongestionControl {
  return isLocalAddress(hostname) ? LOCAL_PATH_CONGESTION_CONTROL : NETWORK_PATH_CONGESTION_CONTROL;
}
