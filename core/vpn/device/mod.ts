/**
 * VPN devices: a TUN device per platform through FFI (Linux `/dev/net/tun`,
 * macOS `utun`), addressed and routed with the host's tools, and an in-memory
 * fake for tests. Everything above reads and writes IP packets through
 * {@link TunDevice} and never learns which one it has.
 *
 * - {@link openTunDevice}: creates, addresses, brings up and routes a device;
 *   closing it removes what it added.
 * - {@link openLinuxTun}, {@link openDarwinTun}: the bare devices.
 * - {@link MemoryTun}: the fake.
 *
 * ```ts
 * import { MemoryTun } from "./mod.ts";
 *
 * const tun = new MemoryTun("tun0");
 * tun.write([new Uint8Array([0x45, 0, 0, 20])]);
 * await tun.close();
 * ```
 * @module
 */
export type { CommandOutcome, CommandRunner, InterfaceAddress } from "../host/mod.ts";
export type { TunDevice } from "./tun_device.ts";
export { openTunDevice, type OpenTunOptions } from "./open_tun_device.ts";
export { type LinuxTunOptions, openLinuxTun } from "./tun_linux.ts";
export { type DarwinTunOptions, openDarwinTun } from "./tun_darwin.ts";
export { TUN_PERMISSION_MESSAGE } from "./tun_open_error.ts";
export { MemoryTun } from "./memory_tun.ts";
