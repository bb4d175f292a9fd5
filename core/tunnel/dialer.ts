/**
 * The server's outbound I/O, behind a small interface: dialing a TCP source
 * and binding a UDP socket per flow. Sessions use it instead of calling
 * `Deno.connect` / `Deno.listenDatagram`, so tests can replace it.
 * @module
 */

/** A byte connection to a service (what `Deno.TcpConn` offers that we use). */
export interface ByteConn {
  /** Reads into `buffer`; the count, or `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `data`; the count written. */
  write(data: Uint8Array): Promise<number>;
  /** Ends our half (TCP FIN). */
  closeWrite(): Promise<void>;
  /** Closes both halves. */
  close(): void;
}

/** An address of a datagram peer. */
export interface DatagramAddr {
  /** IP address literal. */
  hostname: string;
  /** UDP port. */
  port: number;
}

/** A UDP socket (what `Deno.DatagramConn` offers that we use). */
export interface DatagramSocket {
  /** Receives one datagram into `buffer`; the bytes (a view of it) and the sender. */
  receive(buffer: Uint8Array): Promise<[Uint8Array, DatagramAddr]>;
  /** Sends one datagram to `to`. */
  send(data: Uint8Array, to: DatagramAddr): Promise<number>;
  /** Closes the socket; a pending receive rejects. */
  close(): void;
}

/** The server's way out to the services it forwards to. */
export interface Dialer {
  /**
   * Connects to a TCP service at an IP literal.
   * @throws {Deno.errors.ConnectionRefused} and friends when it cannot.
   */
  connectTcp(hostname: string, port: number): Promise<ByteConn>;
  /** Binds a UDP socket on an ephemeral port of the address family of `remoteHost`. */
  bindUdp(remoteHost: string): DatagramSocket;
}

/** The real network: `Deno.connect` and `Deno.listenDatagram` (needs `--allow-net`, `--unstable-net`). */
export const systemDialer: Dialer = {
  connectTcp: (hostname, port) => Deno.connect({ hostname, port }),
  bindUdp(remoteHost) {
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: remoteHost.includes(":") ? "::" : "0.0.0.0",
      port: 0,
    });
    // Casts, not wrappers: this is the per-datagram path. A UDP socket's peers are
    // always NetAddrs, and Deno's send reads only hostname and port.
    return {
      receive: (buffer) => socket.receive(buffer) as Promise<[Uint8Array, DatagramAddr]>,
      send: (data, to) => socket.send(data, to as Deno.NetAddr),
      close: () => socket.close(),
    };
  },
};
