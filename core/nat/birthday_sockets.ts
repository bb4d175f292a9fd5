/**
 * The sockets birthday punching sends from, behind a small interface so tests
 * can put an in-memory network with simulated NATs in their place; the real
 * ones are `Deno.listenDatagram` sockets (IPv4, `--allow-net --unstable-net`).
 * @module
 */
import type { BirthdayAddress } from "./birthday_session.ts";

/** One UDP socket. */
export interface BirthdaySocket {
  /** The local port it is bound to. */
  readonly port: number;
  /** Sends one datagram; errors (unreachable, dropped) are the caller's to ignore. */
  send(data: Uint8Array, to: BirthdayAddress): Promise<void>;
  /** The next datagram; rejects once the socket is closed. */
  receive(): Promise<[Uint8Array, BirthdayAddress]>;
  /** Closes it (idempotent); a pending `receive` rejects. */
  close(): void;
}

/** Opens sockets. */
export interface BirthdaySocketOpener {
  /** Binds a UDP socket on the IPv4 wildcard address, on `port` (0: any). */
  open(port: number): Promise<BirthdaySocket>;
}

/** Real sockets: `Deno.listenDatagram` on 0.0.0.0 (as werift binds, so QUIC can take the port). */
export const denoBirthdaySockets: BirthdaySocketOpener = {
  open(port) {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port });
    let closed = false;
    return Promise.resolve({
      port: (conn.addr as Deno.NetAddr).port,
      async send(data, to) {
        await conn.send(data, { transport: "udp", hostname: to.address, port: to.port });
      },
      async receive() {
        const [data, from] = await conn.receive();
        const addr = from as Deno.NetAddr;
        return [data, { address: addr.hostname, port: addr.port }];
      },
      close() {
        if (closed) return;
        closed = true;
        conn.close();
      },
    });
  },
};
