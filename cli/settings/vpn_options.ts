/**
 * What `tunnel vpn server` and `tunnel vpn client` share: the MTU option, and
 * the check that Deno may do what a VPN does (FFI for the TUN device, running
 * the system's network tool).
 * @module
 */
import { UsageError } from "../usage_error.ts";
import type { ClientIrohFlags } from "./iroh_client_settings.ts";
import type { IrohServerFlags } from "./iroh_server_settings.ts";

/** Default `--network`. */
export const DEFAULT_VPN_NETWORK = "10.0.0.0/24";
/** Default `--keepalive-secs`: WireGuard's usual persistent keepalive, under most NATs' UDP timeouts. */
export const DEFAULT_KEEPALIVE_SECS = 25;
/** Default `--lock-file`. */
export const DEFAULT_LOCK_FILE = "/run/tunnel-vpn-client.lock";

/** Default MTU of the VPN devices: WireGuard's usual 1,420. */
export const DEFAULT_VPN_MTU = 1_420;
/** Smallest MTU: IPv4's minimum datagram every host must accept. */
const MIN_MTU = 576;
/** Largest MTU: jumbo frames. */
const MAX_MTU = 9_000;

/** Parses `--mtu`. */
export function parseMtu(value: string): number {
  const mtu = Number(value);
  if (!/^[0-9]+$/.test(value) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new UsageError(
      `Invalid --mtu '${value}': must be a whole number from ${MIN_MTU} to ${MAX_MTU}`,
    );
  }
  return mtu;
}

/** The Deno flags VPN mode runs with beyond port forwarding's, for messages. */
export const VPN_DENO_FLAGS = "--allow-ffi --allow-run=ip,iptables";

/**
 * Throws unless this system and Deno's permissions allow a VPN.
 * @throws {Error} naming what is missing.
 */
export function requireVpnSupport(): void {
  const os = Deno.build.os;
  if (os !== "linux" && os !== "darwin") {
    throw new Error(`VPN mode runs on Linux and macOS, not ${os}`);
  }
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") {
    throw new Error(
      `VPN mode needs Deno's FFI permission for its TUN device: run with ${VPN_DENO_FLAGS} (see README, Permissions)`,
    );
  }
}

/** Parses `--keepalive-secs`. */
export function keepaliveSeconds(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > 3_600) {
    throw new UsageError(`Invalid --keepalive-secs '${value}': must be 0 to 3600`);
  }
  return Number(value);
}

/** The command line of `tunnel vpn client`. */
export interface VpnClientFlags extends
  Pick<
    ClientIrohFlags,
    | "serverNodeId"
    | "serverAddr"
    | "authToken"
    | "authTokenFile"
    | "clientKey"
    | "reconnect"
    | "status"
    | "verbose"
    | "portMapping"
    | "relayUrl"
    | "relay"
    | "dnsServer"
    | "dns"
    | "relayOnly"
    | "relayToken"
    | "relayTokenFile"
    | "stunServer"
    | "stun"
    | "hostCandidate"
  > {
  mtu?: number;
  keepaliveSecs?: number;
  route?: string[];
  lockFile?: string;
}

/** The command line of `tunnel vpn server`. */
export interface VpnServerFlags extends Omit<IrohServerFlags, "config" | "defaultConfig"> {
  network?: string;
  serverIp?: string;
  mtu?: number;
  /** `--masquerade` alone (true) or with the interface to masquerade out of. */
  masquerade?: string | boolean;
}
