/**
 * `tunnel vpn server`: a TUN device holding the first address of the VPN
 * network, and clients reached by EndpointId (direct, relays, hole punching)
 * who each get the next free address and WireGuard over their session.
 * @module
 */
import { Cidr, CidrError } from "../../core/net/mod.ts";
import {
  AddressPool,
  ForwardingSetupError,
  openVpnServer,
  parseVpnAddress,
  ServerAddressError,
  type VpnServerEvent,
} from "../../core/vpn/mod.ts";
import type { Output } from "../output.ts";
import { UsageError } from "../usage_error.ts";
import {
  type IrohServerSettings,
  resolveIrohServerSettings,
} from "../settings/iroh_server_settings.ts";
import { clientReachFlags } from "../run/client_command_line.ts";
import { runIrohServer } from "../run/iroh_server.ts";
import { clientToClientLine } from "../run/vpn_client_to_client.ts";
import {
  DEFAULT_VPN_MTU,
  DEFAULT_VPN_NETWORK,
  type VpnServerFlags,
} from "../settings/vpn_options.ts";

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
    if (error instanceof CidrError) {
      throw new UsageError(`Invalid --network '${error.text}': ${error.detail}`, { cause: error });
    }
    if (error instanceof ServerAddressError) {
      throw new UsageError(
        `Invalid --server-ip ${error.address}: not a host address of ${error.network}`,
        { cause: error },
      );
    }
    throw new UsageError((error as Error).message, { cause: error });
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
  const vpn = await openVpnServer({
    pool: settings.pool,
    mtu: settings.mtu,
    masquerade: settings.masquerade,
    exhaustedAdvice: "try again later, or ask the operator for a larger --network",
    onEvent: (event) => out.info(vpnServerLine(event)),
  }).catch((error) => {
    throw error instanceof ForwardingSetupError
      ? new Error(`Cannot set up --masquerade: ${error.message}`)
      : error;
  });
  try {
    // After --masquerade, which may have turned forwarding on.
    out.info(clientToClientLine(vpn.device, await vpn.clientToClient()));
    // The device's own addresses are never offered as paths to clients (that path would
    // run through the tunnel it carries).
    await runIrohServer(
      { ...settings, ice: { ...settings.ice, avoidAddress: (address) => vpn.covers(address) } },
      out,
      () => ({ ip: vpn.service() }),
      {
        status: () => ({ vpn: vpn.status() }),
        started: (reach) =>
          out.info(
            `Clients connect with: tunnel vpn client ${clientReachFlags(reach).join(" ")}`,
          ),
      },
    );
  } finally {
    await vpn.close();
  }
}

/** A line for the user about what the server set up. */
export function vpnServerLine(event: VpnServerEvent): string {
  switch (event.type) {
    case "device-ready":
      return `VPN network ${event.network}: this server is ${event.address} on ${event.device} (MTU ${event.mtu}), ${event.capacity} client addresses`;
    case "forwarding-enabled":
      return `Forwarding: clients reach networks behind this host, masqueraded out of ${
        event.outInterface ?? `every interface but ${event.device}`
      }`;
  }
}
