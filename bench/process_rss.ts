/**
 * A process's resident set size, from `/proc/<pid>/status` (Linux): what the
 * relay's memory costs per record held.
 * @module
 */

/**
 * The `VmRSS` of a `/proc/<pid>/status` text, in bytes.
 * @throws {Error} when the text has no `VmRSS` line in kB.
 * @example
 * ```ts
 * parseVmRssBytes("Name:\tdeno\nVmRSS:\t  1024 kB\n"); // 1048576
 * ```
 */
export function parseVmRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error("no VmRSS line in kB in /proc/<pid>/status");
  return Number(match[1]) * 1024;
}

/**
 * The resident set size of process `pid`, in bytes.
 * @throws {Error} when the process is gone or `/proc` is not readable (not Linux).
 */
export async function readRssBytes(pid: number): Promise<number> {
  return parseVmRssBytes(await Deno.readTextFile(`/proc/${pid}/status`));
}
