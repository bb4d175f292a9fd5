/**
 * A {@link PacketPath} over a plain UDP socket with one fixed remote
 * endpoint, as a standard WireGuard peer expects (wireguard-go, the kernel).
 * Datagrams from any other address are ignored. It does not roam: the remote
 * endpoint never changes.
 * @module
 */
import type { PacketPath } from "./packet_path.ts";

/** Where a {@link UdpPacketPath} listens and whom it talks to. */
export interface UdpPacketPathOptions {
  /** Local address to bind (default "0.0.0.0"). */
  hostname?: string;
  /** Local port (default 0: any free port). */
  port?: number;
  /** The peer's address: an IP literal and port. */
  remote: { hostname: string; port: number };
}

// The largest UDP payload: every WireGuard message fits.
const MAX_DATAGRAM = 65_535;

/** WireGuard messages over UDP to one fixed endpoint. */
export class UdpPacketPath implements PacketPath {
  readonly #conn: Deno.DatagramConn;
  readonly #remote: Deno.NetAddr;
  readonly #buffer = new Uint8Array(MAX_DATAGRAM);
  #closed = false;
  /** Datagrams ignored because they came from another address. */
  strangers = 0;

  /**
   * Binds the socket (needs `--unstable-net` and net permission).
   * @throws {Deno.errors.AddrInUse} and other bind errors.
   */
  constructor(options: UdpPacketPathOptions) {
    this.#conn = Deno.listenDatagram({
      transport: "udp",
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 0,
    });
    this.#remote = { transport: "udp", ...options.remote };
  }

  /** The bound local address (its port when bound to 0). */
  get localAddr(): Deno.NetAddr {
    return this.#conn.addr as Deno.NetAddr;
  }

  /** Sends each message as one datagram, without waiting; send errors are dropped like lost datagrams. */
  send(messages: readonly Uint8Array[]): void {
    if (this.#closed) return;
    for (const message of messages) this.#conn.send(message, this.#remote).catch(() => {});
  }

  /** The next datagram from the remote endpoint; null once closed. */
  async receive(): Promise<Uint8Array[] | null> {
    while (!this.#closed) {
      let received;
      try {
        received = await this.#conn.receive(this.#buffer);
      } catch {
        // Closed under us, or a socket error: either way the path is done.
        this.close();
        return null;
      }
      const [data, from] = received;
      const addr = from as Deno.NetAddr;
      if (addr.hostname !== this.#remote.hostname || addr.port !== this.#remote.port) {
        this.strangers++;
        continue;
      }
      // The buffer is reused for the next datagram; the peer may keep views into this one.
      return [data.slice()];
    }
    return null;
  }

  /** Closes the socket. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}
