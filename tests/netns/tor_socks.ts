/**
 * A minimal SOCKS5 CONNECT (RFC 1928, no authentication, domain-name address type, so the
 * proxy resolves the name: socks5h) for the Tor test bed's reachability probes and tests.
 * @module
 */

/** RFC 1928 reply codes, by number (tor sends its extended ones only when asked). */
const REPLIES: Record<number, string> = {
  1: "general failure",
  2: "not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const read = await conn.read(out.subarray(got));
    if (read === null) throw new Error("SOCKS5 proxy closed the connection");
    got += read;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let sent = 0;
  while (sent < bytes.length) sent += await conn.write(bytes.subarray(sent));
}

/**
 * Opens a TCP connection to `proxy` and asks it to CONNECT to `host:port` by name. Resolves
 * with the connection, ready for the stream's bytes, once the proxy replied success;
 * rejects with one line naming the reply otherwise, or after `timeoutMs` (default 30 s).
 */
export async function socks5Connect(
  proxy: { hostname: string; port: number },
  host: string,
  port: number,
  timeoutMs = 30_000,
): Promise<Deno.TcpConn> {
  const name = new TextEncoder().encode(host);
  if (name.length === 0 || name.length > 255) throw new Error(`bad SOCKS5 host name: ${host}`);
  const conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port });
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await writeAll(conn, new Uint8Array([5, 1, 0]));
    const method = await readExactly(conn, 2);
    if (method[0] !== 5 || method[1] !== 0) {
      throw new Error(`SOCKS5 proxy refused the no-authentication method (${method[1]})`);
    }
    await writeAll(
      conn,
      new Uint8Array([5, 1, 0, 3, name.length, ...name, port >> 8, port & 0xff]),
    );
    const head = await readExactly(conn, 4);
    if (head[1] !== 0) {
      throw new Error(
        `SOCKS5 CONNECT ${host}:${port} failed: ${REPLIES[head[1]] ?? `reply ${head[1]}`}`,
      );
    }
    // The bound address that follows: IPv4, a name, or IPv6, then a port.
    const rest = head[3] === 1 ? 4 : head[3] === 4 ? 16 : (await readExactly(conn, 1))[0];
    await readExactly(conn, rest + 2);
    return conn;
  } catch (e) {
    try {
      conn.close();
    } catch { /* closed by the timer */ }
    if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) {
      throw new Error(`SOCKS5 CONNECT ${host}:${port} timed out after ${timeoutMs} ms`);
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
