/**
 * What VPN mode sets up on the host, and takes down again: the commands that
 * address and route an interface, IP forwarding and masquerading for a VPN
 * network (iptables rules tagged so they can be found and removed), whether
 * the kernel forwards what arrives on a device, and the single-instance lock.
 * Plans are plain data (sans-IO), tested without running them; one
 * {@link CommandRunner} runs them, and tests pass a fake.
 *
 * ```ts
 * import { planInterface } from "./mod.ts";
 *
 * const { setup } = planInterface({
 *   os: "linux",
 *   name: "tun0",
 *   address: { ip: "10.0.0.2", prefixLength: 24 },
 *   mtu: 1420,
 * });
 * console.log(setup.map((argv) => argv.join(" ")));
 * ```
 * @module
 */
export {
  type CommandOutcome,
  type CommandRunner,
  runCommand,
  runCommands,
  systemRunner,
} from "./command_runner.ts";
export { checkInterfaceName, MAX_INTERFACE_NAME } from "./interface_name.ts";
export {
  type InterfaceAddress,
  type InterfacePlan,
  type InterfacePlanOptions,
  planInterface,
} from "./interface_plan.ts";
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
export { deviceForwarding, parseNetconfForwarding } from "./device_forwarding.ts";
export { type InstanceLock, LockHeldError, takeInstanceLock } from "./instance_lock.ts";
