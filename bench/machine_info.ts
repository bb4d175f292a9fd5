import { runCommand } from "../tests/harness/mod.ts";

/** Where and when the numbers were taken. */
export interface MachineInfo {
  /** Logical CPUs. */
  nproc: number;
  /** CPU model from /proc/cpuinfo, if readable. */
  cpu: string;
  /** Kernel release. */
  kernel: string;
  /** Deno version. */
  deno: string;
  /** First line of `iperf3 --version`. */
  iperf3: string;
  /** `ssh -V`. */
  ssh: string;
  /** ISO time of the run. */
  date: string;
}

/** Collects {@linkcode MachineInfo}; a field it cannot read is "unknown". */
export async function machineInfo(): Promise<MachineInfo> {
  const [cpu, iperf3, ssh] = await Promise.all([
    Deno.readTextFile("/proc/cpuinfo").then(
      (text) => /^model name\s*:\s*(.+)$/m.exec(text)?.[1].trim() ?? "unknown",
      () => "unknown",
    ),
    firstLine("iperf3", ["--version"]),
    firstLine("ssh", ["-V"]),
  ]);
  return {
    nproc: navigator.hardwareConcurrency,
    cpu,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    iperf3,
    ssh,
    date: new Date().toISOString(),
  };
}

/** One line for the report. */
export function formatMachineInfo(info: MachineInfo): string {
  return `Machine: nproc ${info.nproc} (${info.cpu}), Linux ${info.kernel}, deno ${info.deno}, ` +
    `${info.iperf3}, ${info.ssh}, ${info.date}`;
}

async function firstLine(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await runCommand(command, { args, timeoutMs: 5_000 });
    return (stdout.trim() || stderr.trim()).split("\n")[0] || "unknown";
  } catch {
    return `${command}: not found`;
  }
}
