/**
 * The entry point of VPN mode's system side: a TUN device created, addressed,
 * brought up and routed, which removes what it added when closed.
 * @module
 */
import {
  type CommandRunner,
  type InterfaceAddress,
  planInterface,
  runCommands,
  systemRunner,
} from "../host/mod.ts";
import type { TunDevice } from "./tun_device.ts";
import { openDarwinTun } from "./tun_darwin.ts";
import { openLinuxTun } from "./tun_linux.ts";

/** Options of {@link openTunDevice}. */
export interface OpenTunOptions {
  /** Interface name; Linux also takes a `%d` template. Default: `tun%d` (Linux), first free `utunN` (macOS). */
  name?: string;
  /** Interface MTU. */
  mtu: number;
  /** This host's VPN address and the VPN network's prefix length. */
  address: InterfaceAddress;
  /** macOS point-to-point peer (the server's VPN address); ignored on Linux. */
  peer?: string;
  /** Extra networks to route into the device (`--route`). */
  routes?: readonly string[];
  /** Runs `ip` / `ifconfig` / `route`; tests pass a fake. */
  runner?: CommandRunner;
}

/**
 * Creates a TUN device and configures it. On failure nothing is left behind.
 * Closing the device removes the interface and, with it, its addresses and
 * routes (macOS routes are deleted explicitly first).
 *
 * Needs `--allow-ffi`,
 * `--allow-run=ip` (Linux) or `--allow-run=ifconfig,route` (macOS), and root or CAP_NET_ADMIN.
 *
 * @throws {Error} one line: "Cannot create TUN device: needs root or CAP_NET_ADMIN (run with sudo)",
 *   or "Cannot configure tun0: 'ip route add ...' failed: <the tool's message>".
 * @throws {TypeError} for a bad name, address, MTU or route.
 * @example
 * ```ts ignore
 * const tun = await openTunDevice({ mtu: 1420, address: { ip: "10.0.0.2", prefixLength: 24 } });
 * const packets = await tun.read();
 * await tun.close();
 * ```
 */
export async function openTunDevice(options: OpenTunOptions): Promise<TunDevice> {
  const os = Deno.build.os;
  if (os !== "linux" && os !== "darwin") {
    throw new Error(`Cannot create TUN device: VPN mode runs on Linux and macOS, not ${os}`);
  }
  const runner = options.runner ?? systemRunner;
  const plan = (name: string) =>
    planInterface({
      os,
      name,
      address: options.address,
      peer: options.peer,
      mtu: options.mtu,
      routes: options.routes,
    });
  plan("tun0"); // reject bad options before a device exists
  const device = os === "linux"
    ? openLinuxTun({ name: options.name, mtu: options.mtu })
    : openDarwinTun({ name: options.name, mtu: options.mtu });
  const { setup, teardown } = plan(device.name);
  try {
    await runCommands(setup, runner);
  } catch (error) {
    await undo(teardown, runner);
    await device.close();
    throw new Error(`Cannot configure ${device.name}: ${(error as Error).message}`);
  }
  return new ConfiguredTun(device, () => undo(teardown, runner));
}

// Best effort, each command on its own: a route already gone must not keep the others.
async function undo(commands: string[][], runner: CommandRunner): Promise<void> {
  for (const argv of commands) await runCommands([argv], runner).catch(() => {});
}

class ConfiguredTun implements TunDevice {
  readonly #device: TunDevice;
  readonly #teardown: () => Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(device: TunDevice, teardown: () => Promise<void>) {
    this.#device = device;
    this.#teardown = teardown;
  }

  get name(): string {
    return this.#device.name;
  }

  get mtu(): number {
    return this.#device.mtu;
  }

  read(): Promise<Uint8Array[] | null> {
    return this.#device.read();
  }

  write(packets: readonly Uint8Array[]): void {
    this.#device.write(packets);
  }

  close(): Promise<void> {
    return this.#closing ??= this.#teardown().then(() => this.#device.close());
  }
}
