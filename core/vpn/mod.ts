/**
 * VPN mode's WireGuard engine, built sans-IO piece by piece. So far: the
 * replay window of transport messages.
 *
 * ```ts
 * import { ReplayWindow } from "./mod.ts";
 * const window = new ReplayWindow();
 * window.accept(0); // true
 * window.accept(0); // false: a copy
 * ```
 * @module
 */
export { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from "./replay_window.ts";
export type { TunDevice } from "./tun_device.ts";
export { openTunDevice, type OpenTunOptions } from "./open_tun_device.ts";
export { type LinuxTunOptions, openLinuxTun } from "./tun_linux.ts";
export { type DarwinTunOptions, openDarwinTun } from "./tun_darwin.ts";
export { TUN_PERMISSION_MESSAGE } from "./tun_open_error.ts";
export {
  type InterfaceAddress,
  type InterfacePlan,
  type InterfacePlanOptions,
  planInterface,
} from "./interface_plan.ts";
export {
  type CommandOutcome,
  type CommandRunner,
  runCommand,
  runCommands,
  systemRunner,
} from "./command_runner.ts";
export {
  FORWARDING_TAG,
  type ForwardingFacts,
  type ForwardingOptions,
  type ForwardingPlan,
  planForwarding,
  planForwardingRestore,
  type TaggedRule,
  taggedRules,
} from "./forwarding_plan.ts";
export {
  enableHostForwarding,
  type HostForwarding,
  type HostForwardingOptions,
  type SysctlFile,
} from "./host_forwarding.ts";
