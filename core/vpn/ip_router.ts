/**
 * Moves IP packets between a TUN device and the peers of a VPN: packets the
 * system routes into the device go to the peer that holds their destination
 * address, and packets from a peer reach the device only from an address that
 * peer may use (WireGuard's cryptokey routing, with one address per client).
 * Every packet a peer sends goes to the device, also one for another client
 * of the same server: the system forwards it back into the device (or not), so
 * the host's forwarding setting and firewall decide about client-to-client
 * traffic as about any other.
 * @module
 */
import { ipv4ToNumber } from "../net/mod.ts";
import type { TunDevice } from "./device/mod.ts";

/** Where a router sends a peer's packets (a WireGuard link, or a fake). */
export interface PacketSink {
  /** Sends IP packets to the peer, best effort. */
  send(packets: Uint8Array[]): void;
}

/** Packets the router did not deliver, by reason. */
export interface RouterDrops {
  /** Not IPv4 (VPN networks are IPv4), or too short to be a packet. */
  notIpv4: number;
  /** To an address no peer holds. */
  noRoute: number;
  /** From a peer, with a source address it may not use. */
  spoofed: number;
}

/** Routes between one TUN device and its peers. */
export class IpRouter {
  /** Packets dropped, by reason. */
  readonly drops: RouterDrops = { notIpv4: 0, noRoute: 0, spoofed: 0 };
  readonly #tun: TunDevice;
  readonly #hosts = new Map<number, PacketSink>();
  #default: PacketSink | undefined;

  /** Routes for `tun`; start moving packets with {@linkcode run}. */
  constructor(tun: TunDevice) {
    this.#tun = tun;
  }

  /**
   * Sends packets for `address` (IPv4, 4 bytes) to `sink` until the returned
   * function is called. A later sink for the same address replaces the earlier.
   */
  addHost(address: Uint8Array, sink: PacketSink): () => void {
    const key = ipv4ToNumber(address, 0);
    this.#hosts.set(key, sink);
    return () => {
      if (this.#hosts.get(key) === sink) this.#hosts.delete(key);
    };
  }

  /** Sends packets no host route matches to `sink` (a client's server) until the returned function is called. */
  setDefault(sink: PacketSink): () => void {
    this.#default = sink;
    return () => {
      if (this.#default === sink) this.#default = undefined;
    };
  }

  /**
   * Writes packets a peer sent to the device. With `from`, the peer's one
   * address, a packet with another source is dropped; without it (the server of
   * a client, which may route whole networks), any source is accepted. Packets
   * for another peer go to the device too, never straight to that peer: on a
   * server, the host's kernel forwards them, through its FORWARD chain.
   */
  fromPeer(packets: readonly Uint8Array[], from?: Uint8Array): void {
    const allowed = from === undefined ? undefined : ipv4ToNumber(from, 0);
    const toTun: Uint8Array[] = [];
    for (const packet of packets) {
      if (!isIpv4(packet)) {
        this.drops.notIpv4++;
        continue;
      }
      if (allowed !== undefined && ipv4ToNumber(packet, 12) !== allowed) {
        this.drops.spoofed++;
        continue;
      }
      toTun.push(packet);
    }
    if (toTun.length > 0) this.#tun.write(toTun);
  }

  /** Reads the device and routes its packets until it is closed. */
  async run(): Promise<void> {
    for (;;) {
      const batch = await this.#tun.read();
      if (batch === null) return;
      this.route(batch);
    }
  }

  /** Routes packets read from the device. */
  route(packets: readonly Uint8Array[]): void {
    // Packets of one batch mostly share a destination: group runs per sink.
    let sink: PacketSink | undefined;
    let run: Uint8Array[] = [];
    for (const packet of packets) {
      if (!isIpv4(packet)) {
        this.drops.notIpv4++;
        continue;
      }
      const next = this.#hosts.get(ipv4ToNumber(packet, 16)) ?? this.#default;
      if (!next) {
        this.drops.noRoute++;
        continue;
      }
      if (next !== sink) {
        if (sink && run.length > 0) sink.send(run);
        sink = next;
        run = [];
      }
      run.push(packet);
    }
    if (sink && run.length > 0) sink.send(run);
  }
}

function isIpv4(packet: Uint8Array): boolean {
  return packet.length >= 20 && packet[0] >> 4 === 4;
}
