/** Options for {@linkcode freePort}. */
export interface FreePortOptions {
  /** Address to probe. Default `127.0.0.1`. */
  hostname?: string;
  /**
   * `tcp`, `udp`, or `tcp+udp` for a port number free for both (iperf3 UDP tests use
   * TCP for control and UDP for data on one port number). Default `tcp`.
   */
  transport?: "tcp" | "udp" | "tcp+udp";
}

// Ports the OS hands out are usually free for the other protocol too; a few tries
// cover the rare clash.
const MAX_ATTEMPTS = 50;

/**
 * Asks the OS for a port that is free right now (bind port 0, read it, release it).
 * Another process may take it before you bind it: start children with a retry when
 * that matters.
 *
 * @throws {TypeError} for UDP when Deno runs without `--unstable-net`.
 * @throws {Error} when no port free for both TCP and UDP was found.
 * @example
 * ```ts
 * const port = freePort({ transport: "tcp+udp" });
 * ```
 */
export function freePort(options: FreePortOptions = {}): number {
  const hostname = options.hostname ?? "127.0.0.1";
  const transport = options.transport ?? "tcp";
  if (transport === "udp") return bindUdp(hostname, 0);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const listener = Deno.listen({ hostname, port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    if (transport === "tcp") return port;
    try {
      bindUdp(hostname, port);
      return port;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error(`Cannot find a free TCP+UDP port on ${hostname}: ${MAX_ATTEMPTS} tries`);
}

function bindUdp(hostname: string, port: number): number {
  if (typeof Deno.listenDatagram !== "function") {
    throw new TypeError("Cannot bind a UDP socket: run Deno with --unstable-net");
  }
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port });
  const bound = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return bound;
}
