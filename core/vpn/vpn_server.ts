/**
 * A VPN server's device and routing: a TUN device holding the server's
 * address, optionally IP forwarding and masquerading for the VPN network, and
 * the `ip` service that gives each session an address and WireGuard. Every
 * packet between the device and the clients stays here; sessions come from the
 * caller's server loop, which asks {@linkcode VpnServer.service} for the handler.
 * @module
 */
import { formatIp, parseIp } from "../net/mod.ts";
import type { ServerService } from "../tunnel/mod.ts";
import type { AddressLease, AddressPool } from "./address_pool.ts";
import { openTunDevice, type OpenTunOptions, type TunDevice } from "./device/mod.ts";
import {
  deviceForwarding,
  enableHostForwarding,
  type HostForwarding,
  type HostForwardingOptions,
} from "./host/mod.ts";
import { IpRouter } from "./ip_router.ts";
import { ipService } from "./ip_service.ts";
import { startWireGuard } from "./start_wireguard.ts";
import type { StartWireGuard } from "./wireguard_tunnel.ts";

/** What happened while the server's device was set up, for the caller to tell the user. */
export type VpnServerEvent =
  | {
    /** The device is up with the server's address. */
    type: "device-ready";
    /** The VPN network, CIDR text. */
    network: string;
    /** The server's VPN address. */
    address: string;
    /** The device's name. */
    device: string;
    /** The device's MTU. */
    mtu: number;
    /** Client addresses the network has. */
    capacity: number;
  }
  | {
    /** IP forwarding is on and the VPN network masqueraded. */
    type: "forwarding-enabled";
    /** The interface masqueraded out of; undefined: every interface but the device. */
    outInterface?: string;
    /** The device's name. */
    device: string;
  };

/** Setting up forwarding and masquerading failed; the device is gone again. `cause` says why. */
export class ForwardingSetupError extends Error {
  /** Always "ForwardingSetupError". */
  override name = "ForwardingSetupError";

  /**
   * Builds the error.
   * @param cause what failed, its message for users
   */
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

/** What {@linkcode openVpnServer} takes. */
export interface VpnServerOptions {
  /** Addresses of the VPN network (the server's included). */
  pool: AddressPool;
  /** The device's MTU, told to clients. */
  mtu: number;
  /** Forward and masquerade clients' traffic to other networks (out of `outInterface`, or any). */
  masquerade?: { outInterface?: string };
  /** Advice a client refused for a full pool is given after the facts (see {@linkcode ipService}). */
  exhaustedAdvice?: string;
  /** Told what was set up. */
  onEvent?(event: VpnServerEvent): void;
  /** Makes the device; default {@linkcode openTunDevice} (tests pass a fake). */
  openDevice?(options: OpenTunOptions): Promise<TunDevice>;
  /** Turns on forwarding and masquerading; default {@linkcode enableHostForwarding}. */
  enableForwarding?(options: HostForwardingOptions): Promise<HostForwarding>;
  /** Starts WireGuard; default {@linkcode startWireGuard}. */
  startWireGuard?: StartWireGuard;
}

/** What the server's status view shows of the VPN. */
export interface VpnServerStatus {
  /** The VPN network, CIDR text. */
  network: string;
  /** The server's address, `a.b.c.d/prefix`. */
  address: string;
  /** The device's name. */
  device: string;
  /** Clients holding an address now. */
  clients: number;
}

/** A VPN server's device and routing, running until {@linkcode VpnServer.close}. */
export interface VpnServer {
  /** The device's name. */
  readonly device: string;
  /** A fresh `ip` service handler for a server loop's services. */
  service(): ServerService<AddressLease>;
  /**
   * Whether packets to `address` would go through the VPN (its network): no
   * path of a session may end there, since it would carry the tunnel inside itself.
   */
  covers(address: string): boolean;
  /**
   * Whether the kernel forwards what arrives on the device (so clients reach
   * each other); undefined when unknown (macOS, or `ip` failed).
   */
  clientToClient(): Promise<boolean | undefined>;
  /** What the status view shows. */
  status(): VpnServerStatus;
  /** Undoes forwarding, removes the device, and waits for routing to stop. */
  close(): Promise<void>;
}

/**
 * Makes the server's device (and forwarding, when asked) and starts routing
 * between it and the clients.
 * @throws {ForwardingSetupError} when forwarding or masquerading cannot be set up
 * @throws {Error} when the device cannot be made
 */
export async function openVpnServer(options: VpnServerOptions): Promise<VpnServer> {
  const { pool, mtu } = options;
  const serverIp = formatIp(pool.serverAddress);
  const tun = await (options.openDevice ?? openTunDevice)({
    mtu,
    address: { ip: serverIp, prefixLength: pool.network.prefix },
  });
  options.onEvent?.({
    type: "device-ready",
    network: pool.network.text,
    address: serverIp,
    device: tun.name,
    mtu,
    capacity: pool.capacity,
  });
  let forwarding: HostForwarding | undefined;
  if (options.masquerade) {
    try {
      forwarding = await (options.enableForwarding ?? enableHostForwarding)({
        network: pool.network.text,
        tunName: tun.name,
        outInterface: options.masquerade.outInterface,
      });
    } catch (error) {
      await tun.close();
      throw new ForwardingSetupError(error as Error);
    }
    options.onEvent?.({
      type: "forwarding-enabled",
      outInterface: options.masquerade.outInterface,
      device: tun.name,
    });
  }
  const router = new IpRouter(tun);
  const routing = router.run();
  const start = options.startWireGuard ?? startWireGuard;
  return {
    device: tun.name,
    service: () =>
      ipService({
        pool,
        router,
        mtu,
        startWireGuard: start,
        exhaustedAdvice: options.exhaustedAdvice,
      }),
    covers(address) {
      const ip = parseIp(address);
      return ip !== undefined && pool.network.contains(ip);
    },
    async clientToClient() {
      if (Deno.build.os !== "linux") return undefined;
      return await deviceForwarding(tun.name).catch(() => undefined);
    },
    status: () => ({
      network: pool.network.text,
      address: `${serverIp}/${pool.network.prefix}`,
      device: tun.name,
      clients: pool.size,
    }),
    async close() {
      await forwarding?.close();
      await tun.close();
      await routing;
    },
  };
}
