import { writeAll } from "./_write_all.ts";

/** Options for {@linkcode startTcpEchoServer} and {@linkcode startUdpEchoServer}. */
export interface EchoServerOptions {
  /** Address to bind. Default `127.0.0.1`. */
  hostname?: string;
  /** Port to bind. Default 0 (the OS picks). */
  port?: number;
}

/** A running echo server. */
export interface EchoServer extends AsyncDisposable {
  /** Bound address. */
  readonly hostname: string;
  /** Bound port. */
  readonly port: number;
  /** Bytes echoed so far. */
  readonly bytesEchoed: number;
  /** Connections (TCP) or datagrams (UDP) handled so far. */
  readonly handled: number;
  /** Stops accepting, closes every connection and waits for the handlers to end. */
  close(): Promise<void>;
}

const TCP_BUFFER_BYTES = 64 * 1024;
// Larger than any UDP payload on loopback; one buffer reused for every datagram.
const UDP_BUFFER_BYTES = 65_536;
// Consecutive receive/send failures tolerated before the UDP server gives up.
const MAX_UDP_FAILURES = 1_000;

/**
 * Starts a TCP echo server. Each connection is echoed until the peer's EOF, then the
 * server half-closes (FIN) and closes: a tunnel must carry half-close for a client
 * that sent its last byte and still waits for the reply.
 *
 * @example
 * ```ts
 * await using echo = startTcpEchoServer();
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: echo.port });
 * ```
 */
export function startTcpEchoServer(options: EchoServerOptions = {}): EchoServer {
  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  const conns = new Set<Deno.TcpConn>();
  const handlers = new Set<Promise<void>>();
  let bytes = 0;
  let handled = 0;

  const echo = async (conn: Deno.TcpConn): Promise<void> => {
    // Latency benchmarks measure the path, not Nagle's algorithm.
    conn.setNoDelay(true);
    const buffer = new Uint8Array(TCP_BUFFER_BYTES);
    try {
      // Bounded by the peer's EOF, or by close() closing the connection.
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        await writeAll(conn, buffer.subarray(0, n));
        bytes += n;
      }
      await conn.closeWrite();
    } catch {
      // Reset by the peer, or closed by close().
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Already closed by close().
      }
    }
  };

  const accepting = (async () => {
    // Bounded by close(), which closes the listener and ends accept().
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      handled++;
      conns.add(conn);
      const handler = echo(conn);
      handlers.add(handler);
      handler.finally(() => handlers.delete(handler));
    }
  })();

  const addr = listener.addr;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      listener.close();
      await accepting;
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by its handler meanwhile.
        }
      }
      await Promise.all(handlers);
    })();
  return {
    hostname: addr.hostname,
    port: addr.port,
    get bytesEchoed() {
      return bytes;
    },
    get handled() {
      return handled;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Starts a UDP echo server: every datagram is sent back to its sender.
 * Needs `--unstable-net`.
 *
 * @throws {TypeError} when Deno runs without `--unstable-net`.
 */
export function startUdpEchoServer(options: EchoServerOptions = {}): EchoServer {
  if (typeof Deno.listenDatagram !== "function") {
    throw new TypeError("Cannot start UDP echo server: run Deno with --unstable-net");
  }
  const socket = Deno.listenDatagram({
    transport: "udp",
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
  });
  let bytes = 0;
  let handled = 0;
  let closed = false;
  const serving = (async () => {
    const buffer = new Uint8Array(UDP_BUFFER_BYTES);
    let failures = 0;
    // Bounded by close(), which closes the socket and ends receive(), and by the cap on
    // consecutive failures so a broken socket cannot spin.
    while (!closed && failures < MAX_UDP_FAILURES) {
      try {
        const [data, from] = await socket.receive(buffer);
        await socket.send(data, from);
        bytes += data.length;
        handled++;
        failures = 0;
      } catch (error) {
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
          return;
        }
        // A send error (ICMP unreachable reported on this socket): keep serving.
        failures++;
      }
    }
  })();
  const addr = socket.addr as Deno.NetAddr;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      closed = true;
      socket.close();
      await serving;
    })();
  return {
    hostname: addr.hostname,
    port: addr.port,
    get bytesEchoed() {
      return bytes;
    },
    get handled() {
      return handled;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
