/**
 * QUIC is behind Deno's `--unstable-net` flag: without it `Deno.QuicEndpoint`
 * does not exist, and the first use would fail with "is not a constructor".
 * @module
 */

/**
 * Throws unless Deno runs with `--unstable-net`.
 * @throws {Error} naming the flag and a command line that has it.
 */
export function requireUnstableNet(): void {
  if (typeof (Deno as { QuicEndpoint?: unknown }).QuicEndpoint !== "function") {
    throw new Error(
      "QUIC needs Deno's --unstable-net flag: run deno run --unstable-net --allow-net ... cli/main.ts (or deno task tunnel)",
    );
  }
}
