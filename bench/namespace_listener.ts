/**
 * Waits for a TCP listener inside a network namespace without connecting to it, as
 * `waitForTcpListener()` does in this process's namespace (whose `/proc/net/tcp` shows
 * only its own sockets): `ss -Hltn` run in the namespace. A probe connection would be
 * forwarded to a one-shot `iperf3 -s -1` and spend its one test.
 * @module
 */
import { runCommand } from "../tests/harness/mod.ts";

/** Options of {@link waitForListenerInNamespace}. */
export interface NamespaceListenerOptions {
  /** Address the listener binds; a wildcard bind counts too. Default `127.0.0.1`. */
  hostname?: string;
  /** Give up after this long. Default 10,000 ms. */
  timeoutMs?: number;
  /** Stops waiting (throws the signal's reason) within one poll. */
  signal?: AbortSignal;
}

// `ss` in a namespace costs a few ms; 50 ms keeps the wait short and the polling cheap.
const POLL_MS = 50;

/**
 * Whether a line of `ss -Hltn` output shows a listener on `hostname:port` (or on a
 * wildcard address at `port`).
 */
export function ssShowsListener(ssOutput: string, hostname: string, port: number): boolean {
  const wanted = new Set([`${hostname}:${port}`, `0.0.0.0:${port}`, `*:${port}`, `[::]:${port}`]);
  return ssOutput.split("\n").some((line) => {
    const local = line.trim().split(/\s+/)[3];
    return local !== undefined && wanted.has(local);
  });
}

/**
 * Polls `ip netns exec <ns> ss -Hltn` until something listens on `hostname:port`.
 *
 * @throws {Error} "Cannot wait for TCP listener on ...: none within N ms" after the timeout.
 * @throws the signal's reason when `options.signal` aborts.
 */
export async function waitForListenerInNamespace(
  ns: string,
  port: number,
  options: NamespaceListenerOptions = {},
): Promise<void> {
  const hostname = options.hostname ?? "127.0.0.1";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  // Bounded by the deadline.
  while (performance.now() < deadline) {
    options.signal?.throwIfAborted();
    const result = await runCommand("ip", {
      args: ["netns", "exec", ns, "ss", "-Hltn", `sport = :${port}`],
      timeoutMs: 5_000,
    });
    if (result.code === 0 && ssShowsListener(result.stdout, hostname, port)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(
    `Cannot wait for TCP listener on ${hostname}:${port} in ${ns}: none within ${timeoutMs} ms`,
  );
}
