import { delay } from "./_timeout.ts";

/** Options for {@linkcode waitForTcpListener}. */
export interface WaitForTcpListenerOptions {
  /** Address the listener binds (a wildcard bind counts too). Default `127.0.0.1`. */
  hostname?: string;
  /** Give up after this long. Default 10,000 ms. */
  timeoutMs?: number;
  /** Poll interval. Default 20 ms. */
  intervalMs?: number;
  /** Stops waiting (throws the signal's reason) within one poll interval. */
  signal?: AbortSignal;
}

const LISTEN_STATE = "0A";

/**
 * Whether some process listens on TCP `hostname:port`, read from `/proc/net/tcp{,6}`.
 * Unlike a probe connection, this never reaches the listener: a one-shot server
 * (`iperf3 -s -1`) or a forwarder in front of one is left untouched.
 *
 * Deno grants `/proc/net/*` only to `-A` or to an explicit
 * `--allow-read=/proc/net/tcp,/proc/net/tcp6`; under a plain `--allow-read` this
 * falls back to asking `ss` (needs `--allow-run`).
 *
 * @throws {RangeError} for a hostname other than an IPv4 address or `::1`.
 */
export async function isTcpListening(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  const wanted = new Set(procAddresses(hostname).map((addr) => `${addr}:${hex(port, 4)}`));
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue; // no IPv6 in this kernel
      if (error instanceof Deno.errors.NotCapable) return await ssListening(port, hostname);
      throw error;
    }
    for (const row of text.split("\n").slice(1)) {
      const fields = row.trim().split(/\s+/);
      if (fields[3] === LISTEN_STATE && wanted.has(fields[1])) return true;
    }
  }
  return false;
}

/**
 * Waits until {@linkcode isTcpListening} holds.
 *
 * @throws {Error} "Cannot wait for TCP listener: ..." after the timeout.
 * @throws the signal's reason when `options.signal` aborts.
 * @example
 * ```ts
 * await waitForTcpListener(5201, { timeoutMs: 5_000 });
 * ```
 */
export async function waitForTcpListener(
  port: number,
  options: WaitForTcpListenerOptions = {},
): Promise<void> {
  const hostname = options.hostname ?? "127.0.0.1";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  // Bounded by the deadline.
  while (performance.now() < deadline) {
    options.signal?.throwIfAborted();
    if (await isTcpListening(port, hostname)) return;
    await delay(options.intervalMs ?? 20);
  }
  throw new Error(
    `Cannot wait for TCP listener on ${hostname}:${port}: none within ${timeoutMs} ms`,
  );
}

async function ssListening(port: number, hostname: string): Promise<boolean> {
  const { stdout } = await new Deno.Command("ss", {
    args: ["-Hltn", `sport = :${port}`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const local = new Set([`${hostname}:${port}`, `[${hostname}]:${port}`, `0.0.0.0:${port}`]);
  local.add(`*:${port}`).add(`[::]:${port}`);
  return new TextDecoder().decode(stdout).split("\n").some((row) =>
    local.has(row.trim().split(/\s+/)[3])
  );
}

// /proc prints each 32-bit word of an address in host byte order (little-endian here).
function procAddresses(hostname: string): string[] {
  const ipv4 = hostname.split(".").map(Number);
  if (ipv4.length === 4 && ipv4.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    const word = ipv4.toReversed().map((b) => hex(b, 2)).join("");
    // A listener on 0.0.0.0 or on :: (dual stack) also accepts this address.
    return [word, "00000000", "0".repeat(32), "0000000000000000FFFF0000" + word];
  }
  if (hostname === "::1" || hostname === "[::1]") {
    return ["0".repeat(24) + "01000000", "0".repeat(32)];
  }
  throw new RangeError(`Cannot check listener on ${hostname}: only IPv4 and ::1 are supported`);
}

function hex(value: number, width: number): string {
  return value.toString(16).toUpperCase().padStart(width, "0");
}
