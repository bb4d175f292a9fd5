/**
 * `tunnel vpn server`: a TUN device holding the first address of the VPN
 * network, and clients reached by EndpointId (direct, relays, hole punching)
 * who each get the next free address and WireGuard over their session.
 * @module
 */
import { formatIp, parseIp } from "../../core/net/mod.ts";
import {
  AddressPool,
  IpRouter,
  ipService,
  parseVpnAddress,
  startWireGuard,
} from "../../core/vpn/mod.ts";
import { openTunDevice, type TunDevice } from "../../core/vpn/device/mod.ts";
import {
  deviceForwarding,
  enableHostForwarding,
  type HostForwarding,
} from "../../core/vpn/host/mod.ts";
import { Cidr } from "../../core/net/mod.ts";
import type { Output } from "../output.ts";
import { UsageError } from "../usage_error.ts";
import {
  type IrohServerFlags,
  type IrohServerSettings,
  resolveIrohServerSettings,
  runIrohServer,
} from "./server_iroh.ts";
import { clientToClientLine } from "./vpn_client_to_client.ts";
import { DEFAULT_VPN_MTU, DEFAULT_VPN_NETWORK } from "./vpn_options.ts";

/** The command line of `tunnel vpn server`. */
export interface VpnServerFlags extends Omit<IrohServerFlags, "config" | "defaultConfig"> {
  network?: string;
  serverIp?: string;
  mtu?: number;
  /** `--masquerade` alone (true) or with the interface to masquerade out of. */
  masquerade?: string | boolean;
}

/** Everything the VPN server needs, checked. */
export interface VpnServerSettings extends IrohServerSettings {
  /** Addresses of the VPN network (the server's included). */
  pool: AddressPool;
  /** The device's MTU. */
  mtu: number;
  /** Forward and masquerade clients' traffic to other networks (out of `outInterface`, or any). */
  masquerade?: { outInterface?: string };
}

/**
 * Checks the flags (and `TUNNEL_AUTH_TOKENS`, `TUNNEL_RELAY_TOKEN`).
 * @throws {UsageError} naming the first bad or missing setting.
 */
export async function resolveVpnServerSettings(
  flags: VpnServerFlags,
  env: Parameters<typeof resolveIrohServerSettings>[2] = {},
): Promise<VpnServerSettings> {
  let pool: AddressPool;
  try {
    const network = Cidr.parse(flags.network ?? DEFAULT_VPN_NETWORK);
    const serverIp = flags.serverIp === undefined
      ? undefined
      : parseVpnAddress(flags.serverIp, "--server-ip");
    pool = new AddressPool(network, serverIp);
  } catch (error) {
    throw new UsageError((error as Error).message.replace("Invalid CIDR", "Invalid --network"));
  }
  return {
    ...await resolveIrohServerSettings(flags, undefined, env),
    pool,
    mtu: flags.mtu ?? DEFAULT_VPN_MTU,
    masquerade: flags.masquerade === undefined || flags.masquerade === false
      ? undefined
      : { outInterface: flags.masquerade === true ? undefined : checkInterface(flags.masquerade) },
  };
}

function checkInterface(name: string): string {
  // A Linux interface name: at most 15 bytes, no slash or space (iptables takes it as is).
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) {
    throw new UsageError(`Invalid --masquerade interface '${name}': not an interface name`);
  }
  return name;
}

/** Runs the VPN server until Ctrl-C; the device goes when it ends. */
export async function runVpnServer(settings: VpnServerSettings, out: Output): Promise<void> {
  const { pool } = settings;
  const serverIp = formatIp(pool.serverAddress);
  const tun: TunDevice = await openTunDevice({
    mtu: settings.mtu,
    address: { ip: serverIp, prefixLength: pool.network.prefix },
  });
  out.info(
    `VPN network ${pool.network.text}: this server is ${serverIp} on ${tun.name} (MTU ${settings.mtu}), ${pool.capacity} client addresses`,
  );
  let forwarding: HostForwarding | undefined;
  if (settings.masquerade) {
    try {
      forwarding = await enableHostForwarding({
        network: pool.network.text,
        tunName: tun.name,
        outInterface: settings.masquerade.outInterface,
      });
    } catch (error) {
      await tun.close();
      throw new Error(`Cannot set up --masquerade: ${(error as Error).message}`);
    }
    out.info(
      `Forwarding: clients reach networks behind this host, masqueraded out of ${
        settings.masquerade.outInterface ?? `every interface but ${tun.name}`
      }`,
    );
  }
  // After --masquerade, which may have turned forwarding on.
  out.info(clientToClientLine(tun.name, await forwardingOf(tun.name)));
  const router = new IpRouter(tun);
  const routing = router.run();
  try {
    // The device's own addresses are never offered as paths to clients (that path would
    // run through the tunnel it carries).
    const inVpn = (address: string) => {
      const ip = parseIp(address);
      return ip !== undefined && pool.network.contains(ip);
    };
    await runIrohServer(
      { ...settings, ice: { ...settings.ice, avoidAddress: inVpn } },
      out,
      () => ({ ip: ipService({ pool, router, mtu: settings.mtu, startWireGuard }) }),
      {
        status: () => ({
          vpn: {
            network: pool.network.text,
            address: `${serverIp}/${pool.network.prefix}`,
            device: tun.name,
            clients: pool.size,
          },
        }),
        started: (endpointId) =>
          out.info(
            `Clients connect with: tunnel vpn client --server-node-id ${endpointId} --auth-token <TOKEN>`,
          ),
      },
    );
  } finally {
    await forwarding?.close();
    await tun.close();
    await routing;
  }
}

/** Whether the kernel forwards what arrives on `device`; undefined when unknown (macOS, or `ip` failed). */
async function forwardingOf(device: string): Promise<boolean | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  return await deviceForwarding(device).catch(() => undefined);
}
