/**
 * `tunnel vpn server`: a TUN device holding the first address of the VPN
 * network, and clients reached by EndpointId (direct, relays, hole punching)
 * who each get the next free address and WireGuard over their session.
 * @module
 */
import { Command, Option } from "commander";
import { formatIp } from "../../core/net/mod.ts";
import {
  AddressPool,
  IpRouter,
  ipService,
  openTunDevice,
  parseVpnAddress,
  startWireGuard,
  type TunDevice,
} from "../../core/vpn/mod.ts";
import { Cidr } from "../../core/net/mod.ts";
import { readEnvSetting } from "../env.ts";
import { positiveInteger, repeatable } from "../options.ts";
import { Output } from "../output.ts";
import { UsageError } from "../usage_error.ts";
import { iceOptions } from "./ice_options.ts";
import { irohPathOptions } from "./iroh_paths.ts";
import {
  DEFAULT_MAX_SESSIONS,
  type IrohServerFlags,
  type IrohServerSettings,
  resolveIrohServerSettings,
  runIrohServer,
} from "./server_iroh.ts";
import { verboseOption } from "./shared_flags.ts";
import { DEFAULT_VPN_MTU, parseMtu, requireVpnSupport } from "./vpn_options.ts";

/** Default `--network`. */
export const DEFAULT_VPN_NETWORK = "10.0.0.0/24";

/** The command line of `tunnel vpn server`. */
export interface VpnServerFlags extends Omit<IrohServerFlags, "config" | "defaultConfig"> {
  network?: string;
  serverIp?: string;
  mtu?: number;
}

/** Everything the VPN server needs, checked. */
export interface VpnServerSettings extends IrohServerSettings {
  /** Addresses of the VPN network (the server's included). */
  pool: AddressPool;
  /** The device's MTU. */
  mtu: number;
}

/** Defines the command. */
export function vpnServerCommand(): Command {
  const command = new Command("server")
    .description("give VPN clients addresses of a network and route it through WireGuard")
    .option(
      "-n, --network <cidr>",
      `VPN network; the server takes its first address (default ${DEFAULT_VPN_NETWORK})`,
    )
    .option("--server-ip <ip>", "the server's VPN address instead of the network's first")
    .addOption(
      new Option("--mtu <bytes>", `MTU of the VPN device (default ${DEFAULT_VPN_MTU})`).argParser(
        parseMtu,
      ),
    )
    .addOption(repeatable("--auth-tokens <token>", "accepted authentication token (repeatable)"))
    .option("--auth-tokens-file <file>", "file of accepted tokens, one per line, # comments")
    .addOption(
      new Option(
        "--max-sessions <n>",
        `maximum concurrent clients (default ${DEFAULT_MAX_SESSIONS})`,
      )
        .argParser(positiveInteger("--max-sessions")),
    )
    .option("--secret <base64>", "secret key for a persistent identity (base64)")
    .option("--secret-file <file>", "file holding the secret key (see generate-server-key)")
    .option("--bind <host:port>", "address to listen on (default all interfaces, random port)")
    .option("--status <host:port>", "serve a status view on this loopback address (tunnel status)");
  return verboseOption(
    iceOptions(irohPathOptions(command, "server"), "the relays' own, on port 3478"),
  ).action(async (flags: VpnServerFlags) => {
    requireVpnSupport();
    const settings = await resolveVpnServerSettings(flags, {
      authTokens: readEnvSetting("TUNNEL_AUTH_TOKENS"),
    });
    await runVpnServer(settings, new Output(flags.verbose));
  });
}

/**
 * Checks the flags (and `TUNNEL_AUTH_TOKENS`).
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
  };
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
  const router = new IpRouter(tun);
  const routing = router.run();
  try {
    await runIrohServer(
      settings,
      out,
      () => ({ ip: ipService({ pool, router, mtu: settings.mtu, startWireGuard }) }),
      {
        status: () => ({
          vpn: {
            network: pool.network.text,
            address: serverIp,
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
    await tun.close();
    await routing;
  }
}
