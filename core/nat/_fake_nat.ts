/**
 * Test fixture: an in-memory IPv4 network of two NATs (sans-IO), for birthday
 * punching without sockets. A `symmetric` NAT draws a random public port for
 * every new (inside socket, destination) and lets in only that destination;
 * a `port-restricted` NAT keeps one public port per inside socket (the inside
 * port) and lets in only addresses and ports that socket has sent to. Also
 * {@linkcode FakeNetwork.opener}: sockets over the same network, for the I/O
 * runner.
 * @module
 */
import { BIRTHDAY_LOWEST_PORT, type RandomSource } from "./birthday_plan.ts";
import type { BirthdayAddress } from "./birthday_session.ts";
import type { BirthdaySocket, BirthdaySocketOpener } from "./birthday_sockets.ts";

const key = (a: BirthdayAddress) => `${a.address}:${a.port}`;

/** One NAT with one public IP. */
export class FakeNat {
  /** Mapped datagrams it let out. */
  outbound = 0;
  /** Datagrams from outside it dropped. */
  dropped = 0;
  readonly #kind: "symmetric" | "port-restricted";
  readonly #random: RandomSource;
  /** mapping key -> public port; symmetric keys include the destination. */
  readonly #out = new Map<string, number>();
  /** public port -> inside socket and the destinations it may hear from. */
  readonly #in = new Map<number, { inside: string; allowed: Set<string> }>();

  /** @param publicIp the NAT's outside address */
  constructor(
    readonly publicIp: string,
    kind: "symmetric" | "port-restricted",
    random: RandomSource,
  ) {
    this.#kind = kind;
    this.#random = random;
  }

  /** Open mappings (symmetric: one per destination). */
  get mappings(): number {
    return this.#in.size;
  }

  /** Maps a datagram from `inside` (an inside socket's key) to `to`; returns its public source. */
  send(inside: string, to: BirthdayAddress): BirthdayAddress {
    this.outbound++;
    const mappingKey = this.#kind === "symmetric" ? `${inside}>${key(to)}` : inside;
    let port = this.#out.get(mappingKey);
    if (port === undefined) {
      port = this.#kind === "port-restricted" ? Number(inside.split(":")[1]) : this.#freePort();
      this.#out.set(mappingKey, port);
      this.#in.set(port, { inside, allowed: new Set() });
    }
    this.#in.get(port)!.allowed.add(key(to));
    return { address: this.publicIp, port };
  }

  /** The public port of an existing mapping, without sending (tests check pairs with it). */
  publicPortOf(inside: string, to: BirthdayAddress): number | undefined {
    return this.#out.get(this.#kind === "symmetric" ? `${inside}>${key(to)}` : inside);
  }

  /** The inside socket a datagram from `from` to public `port` reaches, or undefined (dropped). */
  receive(from: BirthdayAddress, port: number): string | undefined {
    const entry = this.#in.get(port);
    if (!entry || !entry.allowed.has(key(from))) {
      this.dropped++;
      return undefined;
    }
    return entry.inside;
  }

  #freePort(): number {
    const span = 65_536 - BIRTHDAY_LOWEST_PORT;
    for (;;) {
      const port = BIRTHDAY_LOWEST_PORT + Math.floor(this.#random() * span);
      if (!this.#in.has(port)) return port;
    }
  }
}

/** A datagram in flight. */
interface Flight {
  at: number;
  from: BirthdayAddress;
  to: BirthdayAddress;
  data: Uint8Array;
}

/** Two NATs on one public segment, with latency and optional loss, driven by a virtual or real clock. */
export class FakeNetwork {
  readonly #nats: FakeNat[];
  readonly #latencyMs: number;
  readonly #loss: number;
  readonly #random: RandomSource;
  readonly #inFlight: Flight[] = [];
  /** inside socket key -> its NAT and its delivery callback */
  readonly #sockets = new Map<
    string,
    { nat: FakeNat; deliver: (data: Uint8Array, from: BirthdayAddress) => void }
  >();

  constructor(
    nats: FakeNat[],
    options: { latencyMs: number; loss?: number; random: RandomSource },
  ) {
    this.#nats = nats;
    this.#latencyMs = options.latencyMs;
    this.#loss = options.loss ?? 0;
    this.#random = options.random;
  }

  /** Attaches an inside socket; `deliver` gets what its NAT lets in. */
  attach(
    nat: FakeNat,
    inside: string,
    deliver: (data: Uint8Array, from: BirthdayAddress) => void,
  ): void {
    this.#sockets.set(inside, { nat, deliver });
  }

  /** Delivers in real time until the returned function is called (a 1 ms timer). */
  startPump(): () => void {
    const timer = setInterval(() => this.deliver(performance.now()), 1);
    return () => clearInterval(timer);
  }

  /** Detaches a closed socket (datagrams for it are lost). */
  detach(inside: string): void {
    this.#sockets.delete(inside);
  }

  /** Sends from an inside socket at time `now`. */
  send(now: number, inside: string, to: BirthdayAddress, data: Uint8Array): void {
    const socket = this.#sockets.get(inside);
    if (!socket) return;
    const from = socket.nat.send(inside, to);
    if (this.#loss > 0 && this.#random() < this.#loss) return;
    this.#inFlight.push({ at: now + this.#latencyMs, from, to, data });
  }

  /** Delivers every datagram due by `now` through the destination NAT (one latency: FIFO). */
  deliver(now: number): void {
    let count = 0;
    while (count < this.#inFlight.length && this.#inFlight[count].at <= now) count++;
    if (count === 0) return;
    const due = this.#inFlight.splice(0, count);
    for (const flight of due) {
      const nat = this.#nats.find((n) => n.publicIp === flight.to.address);
      const inside = nat?.receive(flight.from, flight.to.port);
      if (inside) this.#sockets.get(inside)?.deliver(flight.data, flight.from);
    }
  }

  /**
   * Socket opener for the I/O runner behind `nat`, on inside address
   * `insideIp`, delivering in real time (a 1 ms timer pumps the network).
   */
  opener(
    nat: FakeNat,
    insideIp: string,
  ): BirthdaySocketOpener & { opened: number; openNow: number } {
    let nextPort = 40_000;
    // The sockets' own methods rebind `this`; these keep the network's.
    const network = {
      send: (now: number, inside: string, to: BirthdayAddress, data: Uint8Array) =>
        this.send(now, inside, to, data),
      detach: (inside: string) => this.detach(inside),
    };
    const opener = {
      opened: 0,
      openNow: 0,
      open: (port: number): Promise<BirthdaySocket> => {
        const localPort = port || nextPort++;
        const inside = `${insideIp}:${localPort}`;
        const queue: [Uint8Array, BirthdayAddress][] = [];
        let waiting: {
          resolve: (v: [Uint8Array, BirthdayAddress]) => void;
          reject: (e: Error) => void;
        } | undefined;
        let closed = false;
        this.attach(nat, inside, (data, from) => {
          if (waiting) {
            const w = waiting;
            waiting = undefined;
            w.resolve([data, from]);
          } else queue.push([data, from]);
        });
        opener.opened++;
        opener.openNow++;
        return Promise.resolve({
          port: localPort,
          send(data, to) {
            network.send(performance.now(), inside, to, data);
            return Promise.resolve();
          },
          receive() {
            if (closed) return Promise.reject(new Error("closed"));
            const next = queue.shift();
            if (next) return Promise.resolve(next);
            return new Promise((resolve, reject) => waiting = { resolve, reject });
          },
          close() {
            if (closed) return;
            closed = true;
            opener.openNow--;
            network.detach(inside);
            waiting?.reject(new Error("closed"));
            waiting = undefined;
          },
        });
      },
    };
    return opener;
  }
}
