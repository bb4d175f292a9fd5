/**
 * Whether the kernel forwards packets that arrive on a device: on a VPN server,
 * this decides whether clients reach each other, because their packets go
 * into the server's TUN device and only the kernel sends them back out of it.
 * @module
 */
import { type CommandRunner, runCommand, systemRunner } from "./command_runner.ts";
import { checkInterfaceName } from "./interface_name.ts";

/**
 * Reads IPv4 forwarding of `device` with `ip -4 netconf show dev <device>`
 * (Linux). A new device takes `net.ipv4.ip_forward`'s value, and setting that
 * sysctl sets every device's.
 *
 * @returns true when on, false when off, undefined when `ip` said neither.
 * @throws {Error} one line when `ip` fails.
 * @example
 * ```ts ignore
 * await deviceForwarding("tun0"); // false on a host with net.ipv4.ip_forward=0
 * ```
 */
export async function deviceForwarding(
  device: string,
  runner: CommandRunner = systemRunner,
): Promise<boolean | undefined> {
  checkInterfaceName(device);
  return parseNetconfForwarding(
    await runCommand(["ip", "-4", "netconf", "show", "dev", device], runner),
  );
}

/**
 * The forwarding flag of `ip netconf` output
 * (`inet tun0 forwarding on rp_filter off …`), undefined when absent.
 *
 * @example
 * ```ts
 * parseNetconfForwarding("inet tun0 forwarding off rp_filter off"); // false
 * ```
 */
export function parseNetconfForwarding(text: string): boolean | undefined {
  const match = /(?:^|\s)forwarding (on|off)(?:\s|$)/.exec(text);
  return match ? match[1] === "on" : undefined;
}
