/**
 * The one UDP socket a DHT node uses, behind a small interface: Deno's
 * datagram socket for real use, an in-memory network for tests (many nodes,
 * no sockets, optional loss).
 * @module
 */
import type { DhtPeerAddress } from "./krpc.ts";

/** A datagram socket as the node needs it. */
export interface DhtSocket {
  /** The bound address. */
  readonly localAddress: DhtPeerAddress;
  /** Sends one datagram; may drop it silently as UDP does. */
  send(data: Uint8Array, to: DhtPeerAddress): Promise<void>;
  /** The next datagram; rejects once the socket is closed. */
  receive(): Promise<[Uint8Array, DhtPeerAddress]>;
  /** Closes the socket; pending and later receives reject. */
  close(): void;
}

/** Largest datagram read from a real socket (larger ones are cut and fail to decode). */
export const MAX_DATAGRAM_BYTES = 2048;

/**
 * Binds a UDP socket (Deno.listenDatagram, IPv4).
 *
 * @param bind Address to bind; port 0 picks one.
 */
export function listenUdp(bind: DhtPeerAddress): DhtSocket {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: bind.hostname, port: bind.port });
  const addr = conn.addr as Deno.NetAddr;
  return {
    localAddress: { hostname: addr.hostname, port: addr.port },
    async send(data, to) {
      try {
        await conn.send(data, { transport: "udp", hostname: to.hostname, port: to.port });
      } catch {
        // As UDP: an unreachable or refused destination is a lost datagram.
      }
    },
    async receive() {
      const [data, from] = await conn.receive(new Uint8Array(MAX_DATAGRAM_BYTES));
      const source = from as Deno.NetAddr;
      return [data, { hostname: source.hostname, port: source.port }];
    },
    close() {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * An in-memory datagram network: each socket gets its own address
 * (`10.0.x.y:6881`, or the one asked for), datagrams arrive in a later task,
 * and a filter may drop them.
 */
export class MemoryDhtNetwork {
  readonly #sockets = new Map<string, MemorySocket>();
  #next = 1;
  /** Return false to drop a datagram (loss, partitions). */
  filter: (data: Uint8Array, from: DhtPeerAddress, to: DhtPeerAddress) => boolean = () => true;
  /** Datagrams delivered so far. */
  delivered = 0;

  /** A new socket; `address` when given, else the next free `10.0.x.y:6881`. */
  socket(address?: DhtPeerAddress): DhtSocket {
    const n = this.#next++;
    const local = address ?? { hostname: `10.0.${n >> 8}.${n & 0xff}`, port: 6881 };
    const key = `${local.hostname}:${local.port}`;
    if (this.#sockets.has(key)) throw new Error(`Address ${key} is in use`);
    const socket = new MemorySocket(local, this, () => this.#sockets.delete(key));
    this.#sockets.set(key, socket);
    return socket;
  }

  /** Queues a datagram for the socket bound at `to`, if any. */
  deliver(data: Uint8Array, from: DhtPeerAddress, to: DhtPeerAddress): void {
    if (!this.filter(data, from, to)) return;
    const target = this.#sockets.get(`${to.hostname}:${to.port}`);
    if (!target) return;
    this.delivered++;
    setTimeout(() => target.push(data.slice(), { ...from }), 0);
  }
}

class MemorySocket implements DhtSocket {
  readonly #queue: [Uint8Array, DhtPeerAddress][] = [];
  readonly #waiters: {
    resolve: (value: [Uint8Array, DhtPeerAddress]) => void;
    reject: (error: Error) => void;
  }[] = [];
  #closed = false;

  constructor(
    readonly localAddress: DhtPeerAddress,
    readonly network: MemoryDhtNetwork,
    readonly onClose: () => void,
  ) {}

  send(data: Uint8Array, to: DhtPeerAddress): Promise<void> {
    if (!this.#closed) this.network.deliver(data, this.localAddress, to);
    return Promise.resolve();
  }

  push(data: Uint8Array, from: DhtPeerAddress): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve([data, from]);
    // Bounded as a kernel's receive buffer: past 1024 queued datagrams, drop.
    else if (this.#queue.length < 1024) this.#queue.push([data, from]);
  }

  receive(): Promise<[Uint8Array, DhtPeerAddress]> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("socket closed"));
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onClose();
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(new Deno.errors.BadResource("socket closed"));
    }
  }
}
