/**
 * A VPN client's device and routing across its sessions: every packet between
 * the TUN device and the server stays here. The device is made when the first
 * session says which address is ours, kept while later sessions give the same
 * one, and made again when a session gives another. Sessions come from the
 * caller (whoever dials and reconnects), as a connection and its control stream.
 * @module
 */
import { Cidr, formatIp, parseIp } from "../net/mod.ts";
import type { PeerConnection } from "../transport/mod.ts";
import type { FramedStream, SessionStats } from "../tunnel/mod.ts";
import { openTunDevice, type OpenTunOptions, type TunDevice } from "./device/mod.ts";
import { IpRouter } from "./ip_router.ts";
import { startWireGuard } from "./start_wireguard.ts";
import { startVpnClientLink, type VpnClientLink } from "./vpn_client_session.ts";
import type { StartWireGuard } from "./wireguard_tunnel.ts";

/** What happened to the client's device, for the caller to tell the user. */
export type VpnClientEvent =
  | {
    /** A session gave another address: the device is made again. */
    type: "address-changed";
    /** The old address, `a.b.c.d/prefix`. */
    from: string;
    /** The new one. */
    to: string;
  }
  | {
    /** The server's device has a smaller MTU than asked for: the device takes the server's. */
    type: "mtu-lowered";
    /** The MTU the device gets. */
    mtu: number;
    /** The MTU asked for. */
    asked: number;
  }
  | {
    /** The device is up and routed. */
    type: "device-ready";
    /** Our address, `a.b.c.d/prefix`. */
    address: string;
    /** The device's name. */
    device: string;
    /** The device's MTU. */
    mtu: number;
    /** The server's VPN address. */
    server: string;
    /** Networks routed into the device: the VPN's own first. */
    routes: string[];
  }
  | {
    /** A later session gave the same address: the device stays. */
    type: "device-kept";
    /** Our address, `a.b.c.d/prefix`. */
    address: string;
    /** The device's name. */
    device: string;
  };

/** What {@linkcode VpnClient} takes. */
export interface VpnClientOptions {
  /** The device MTU asked for (the server's may be lower). */
  mtu: number;
  /** Networks routed through the VPN besides its own (IPv4). */
  routes: readonly Cidr[];
  /** WireGuard persistent keepalive, seconds; none when undefined. */
  keepaliveSeconds?: number;
  /** Told what happens to the device. */
  onEvent?(event: VpnClientEvent): void;
  /** Makes the device; default {@linkcode openTunDevice} (tests pass a fake). */
  openDevice?(options: OpenTunOptions): Promise<TunDevice>;
  /** Starts WireGuard; default {@linkcode startWireGuard}. */
  startWireGuard?: StartWireGuard;
}

/** What the client's status view shows of the VPN. */
export interface VpnClientStatus {
  /** Our address, `a.b.c.d/prefix`. */
  address: string;
  /** The device's name. */
  device: string;
  /** Networks routed through the VPN besides its own. */
  routes: string[];
}

/**
 * The client's TUN device and the routing between it and the server, across
 * sessions: {@linkcode link} starts WireGuard over a session, {@linkcode use}
 * routes through it, {@linkcode lost} stops routing when the session goes.
 *
 * @example
 * ```ts ignore
 * const vpn = new VpnClient({ mtu: 1420, routes: [] });
 * const link = await vpn.link(session); // session: a ClientSession the server accepted
 * await vpn.use(link);
 * // ... until the session is lost:
 * vpn.lost();
 * await vpn.close();
 * ```
 */
export class VpnClient {
  readonly #options: VpnClientOptions;
  #tun: TunDevice | undefined;
  #router: IpRouter | undefined;
  #routing: Promise<void> | undefined;
  #address = "";
  #network: Cidr | undefined;
  #unsetDefault: (() => void) | undefined;
  #link: VpnClientLink | undefined;

  /** A client with no device yet. */
  constructor(options: VpnClientOptions) {
    this.#options = options;
  }

  /**
   * Exchanges keys with the server on the session's control stream and starts
   * WireGuard over its connection; the server's packets go to the device.
   * @throws {Error} when the server does not answer with a VPN configuration in time
   */
  link(
    session: { conn: PeerConnection; control: FramedStream; stats?: SessionStats },
  ): Promise<VpnClientLink> {
    return startVpnClientLink(session, {
      startWireGuard: this.#options.startWireGuard ?? startWireGuard,
      keepaliveSeconds: this.#options.keepaliveSeconds,
      onPackets: (packets) => this.#router?.fromPeer(packets),
    });
  }

  /** Routes through `link` from now on, making the device first if needed. */
  async use(link: VpnClientLink): Promise<void> {
    const { config } = link;
    const address = `${formatIp(config.clientAddress)}/${config.prefixLength}`;
    if (address !== this.#address) {
      if (this.#tun) {
        this.#options.onEvent?.({ type: "address-changed", from: this.#address, to: address });
        await this.#closeDevice();
      }
      const asked = this.#options.mtu;
      const mtu = Math.min(asked, config.mtu);
      if (mtu < asked) this.#options.onEvent?.({ type: "mtu-lowered", mtu, asked });
      const routes = this.#options.routes.map((route) => route.text);
      const tun = await (this.#options.openDevice ?? openTunDevice)({
        mtu,
        address: { ip: formatIp(config.clientAddress), prefixLength: config.prefixLength },
        peer: formatIp(config.serverAddress),
        routes,
      });
      this.#tun = tun;
      this.#address = address;
      this.#router = new IpRouter(tun);
      this.#routing = this.#router.run();
      this.#network = Cidr.containing(config.clientAddress, config.prefixLength);
      this.#options.onEvent?.({
        type: "device-ready",
        address,
        device: tun.name,
        mtu,
        server: formatIp(config.serverAddress),
        routes: [this.#network.text, ...routes],
      });
    } else {
      this.#options.onEvent?.({ type: "device-kept", address, device: this.#tun!.name });
    }
    this.#link = link;
    this.#unsetDefault?.();
    this.#unsetDefault = this.#router!.setDefault(link.tunnel);
  }

  /**
   * Whether packets to `address` go through the VPN: its network (known once a
   * session said it) and the other routed networks. No path of a session may end there.
   */
  covers(address: string): boolean {
    const ip = parseIp(address);
    if (ip === undefined) return false;
    if (this.#network?.contains(ip)) return true;
    return this.#options.routes.some((route) => route.contains(ip));
  }

  /** The session is gone: packets wait for nothing (they are dropped) until the next. */
  lost(): void {
    this.#unsetDefault?.();
    this.#unsetDefault = undefined;
    this.#link?.close();
    this.#link = undefined;
  }

  /** The device as the status view shows it; undefined before the first session. */
  status(): VpnClientStatus | undefined {
    if (!this.#tun) return undefined;
    return {
      address: this.#address,
      device: this.#tun.name,
      routes: this.#options.routes.map((route) => route.text),
    };
  }

  /** Removes the device and stops WireGuard. */
  async close(): Promise<void> {
    this.lost();
    await this.#closeDevice();
  }

  async #closeDevice(): Promise<void> {
    const tun = this.#tun;
    this.#tun = undefined;
    this.#router = undefined;
    this.#address = "";
    this.#network = undefined;
    if (tun) await tun.close();
    await this.#routing;
  }
}
