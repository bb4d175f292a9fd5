/**
 * Which QUIC congestion controller a path gets. Deno offers a choice per
 * connection; the right one depends on what the path crosses, not on the mode
 * that made it. Figures: docs/BENCHMARKS.md, "Congestion control per path".
 * @module
 */

/**
 * Deno's QUIC congestion controllers: `"default"` and `"throughput"` are
 * Cubic-like (they halve their window on every loss), `"low-latency"` is BBR
 * (it paces to the bottleneck rate it measures, so random loss does not stop it).
 */
export type CongestionControl = "default" | "throughput" | "low-latency";

/**
 * A path that crosses real networks (a direct dial, an ICE-punched path): BBR.
 * On an emulated WAN (bare QUIC, one stream) BBR FIGURES_NETWORK.
 */
export const NETWORK_PATH_CONGESTION_CONTROL: CongestionControl = "low-latency";

/**
 * A path that stays on this machine (127.0.0.0/8, ::1): Deno's default. There is
 * no loss to ride out, and BBR FIGURES_LOOPBACK.
 */
export const LOOPBACK_PATH_CONGESTION_CONTROL: CongestionControl = "default";

/** The controller for a path to (or from) `hostname`, by what the path crosses. */
export function congestionControlToward(hostname: string): CongestionControl {
  return isLoopbackAddress(hostname)
    ? LOOPBACK_PATH_CONGESTION_CONTROL
    : NETWORK_PATH_CONGESTION_CONTROL;
}

function isLoopbackAddress(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || bare.startsWith("127.") ||
    bare.startsWith("::ffff:127.");
}
