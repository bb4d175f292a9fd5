/**
 * Applies {@link planForwarding} to the host (Linux) with the `sysctl` and
 * `iptables` tools; removes it again on `close()`.
 * @module
 */
import { type CommandRunner, runCommand, runCommands, systemRunner } from "./command_runner.ts";
import {
  type ForwardingFacts,
  type ForwardingOptions,
  planForwarding,
  planForwardingRestore,
} from "./forwarding_plan.ts";

/** Reads and writes `net.ipv4.ip_forward` (default: the `sysctl` tool); tests pass a fake. */
export interface SysctlFile {
  /** The current value, trimmed. */
  read(): Promise<string>;
  /** Writes a value. */
  write(value: string): Promise<void>;
}

/** Options of {@link enableHostForwarding}. */
export interface HostForwardingOptions extends Omit<ForwardingOptions, "pid"> {
  /** Runs `iptables`. */
  runner?: CommandRunner;
  /** `ip_forward` access. */
  sysctl?: SysctlFile;
  /** Whether a pid runs (to spot a crashed run's rules). */
  isAlive?: (pid: number) => boolean;
  /** Id written into the rules. Default: this process. */
  pid?: number;
}

/** Forwarding in place; `close()` removes it. */
export interface HostForwarding {
  /** Deletes this run's rules and restores `ip_forward` unless another run still needs it. Safe to call twice. */
  close(): Promise<void>;
}

// Through the sysctl tool: Deno asks for --allow-all to touch /proc/sys directly.
function sysctlTool(runner: CommandRunner): SysctlFile {
  return {
    read: async () => (await runCommand(["sysctl", "-n", "net.ipv4.ip_forward"], runner)).trim(),
    write: async (value) => {
      await runCommand(["sysctl", "-q", "-w", `net.ipv4.ip_forward=${value}`], runner);
    },
  };
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lets VPN clients reach the networks behind this host: removes leftovers of
 * crashed runs, turns on `net.ipv4.ip_forward`, masquerades the VPN network and,
 * when the FORWARD policy is DROP, accepts the device's traffic. Call `close()`
 * on exit, Ctrl-C and SIGTERM; a run killed outright is cleaned up by the next.
 *
 * Needs root, `--allow-run=iptables,sysctl` and `--allow-read=/proc` (to see
 * whether the run that left rules behind still runs).
 *
 * @throws {Error} one line: "Cannot set up forwarding: 'iptables ...' failed: <reason>". Nothing stays behind.
 * @example
 * ```ts ignore
 * const forwarding = await enableHostForwarding({ network: "10.0.0.0/24", tunName: "tun0", outInterface: "eth0" });
 * await forwarding.close();
 * ```
 */
export async function enableHostForwarding(
  options: HostForwardingOptions,
): Promise<HostForwarding> {
  const runner = options.runner ?? systemRunner;
  const sysctl = options.sysctl ?? sysctlTool(runner);
  const pid = options.pid ?? Deno.pid;
  const facts = () => readFacts(runner, sysctl, options.isAlive ?? processAlive);
  const plan = planForwarding({ ...options, pid }, await facts().catch(fail));
  // Leftovers go one by one: one already removed by hand must not keep the others.
  for (const argv of plan.stale) await runCommand(argv, runner).catch(() => {});
  const added: string[][] = [];
  const undo = async () => {
    for (const argv of plan.teardown.slice(plan.teardown.length - added.length)) {
      await runCommand(argv, runner).catch(() => {});
    }
    const restore = planForwardingRestore(plan.original, await facts(), pid);
    if (restore !== undefined) await sysctl.write(restore);
  };
  try {
    if (plan.ipForward !== undefined) await sysctl.write(plan.ipForward);
    for (const argv of plan.setup) {
      await runCommands([argv], runner);
      added.push(argv);
    }
  } catch (error) {
    await undo().catch(() => {});
    fail(error);
  }
  let closing: Promise<void> | undefined;
  return { close: () => closing ??= undo() };
}

function fail(error: unknown): never {
  throw new Error(`Cannot set up forwarding: ${(error as Error).message}`);
}

async function readFacts(
  runner: CommandRunner,
  sysctl: SysctlFile,
  isAlive: (pid: number) => boolean,
): Promise<ForwardingFacts> {
  return {
    ipForward: await sysctl.read(),
    filterRules: await runCommand(["iptables", "-w", "-S", "FORWARD"], runner),
    natRules: await runCommand(["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"], runner),
    isAlive,
  };
}
