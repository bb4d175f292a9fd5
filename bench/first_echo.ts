/**
 * The set-up suites' common measure: from connecting to a forwarded local port
 * to the first byte an echo service sends back through it.
 * @module
 */

/** Milliseconds from connect() to the first echoed byte, bounded at 10 s. */
export async function firstEcho(port: number): Promise<number> {
  const started = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 10_000);
  try {
    await conn.write(new Uint8Array([1]));
    if ((await conn.read(new Uint8Array(1))) === null) throw new Error("the echo closed");
    return performance.now() - started;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}
