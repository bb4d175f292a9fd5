/**
 * Finding and running the system tools the bed drives (ip, iptables-restore, nft, ...).
 * @module
 */

/** Outcome of a finished command. `signal` is set when the command was killed (timeout). */
export interface CommandResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

// Non-login shells and CI runners often lack the sbin directories where these tools live.
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
const found = new Map<string, string | undefined>();

/** Absolute path of `name` on PATH or in the sbin directories, or undefined. */
export function findTool(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  let path: string | undefined;
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter((d) => d), ...EXTRA_DIRS];
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) {
        path = `${dir}/${name}`;
        break;
      }
    } catch { /* not in this directory */ }
  }
  found.set(name, path);
  return path;
}

/** Like {@link findTool}, but throws a message that names the Debian package to install. */
export function tool(name: string, debianPackage: string): string {
  const path = findTool(name);
  if (!path) throw new Error(`${name} not found (apt-get install ${debianPackage})`);
  return path;
}

/** Runs a command to completion; kills it after `timeoutMs` (default 20 s). Never throws on exit codes. */
export async function run(
  cmd: string[],
  options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 20_000);
  try {
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      // A command that exits early closes its stdin; its exit status tells the story then.
      await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
      await writer.close().catch(() => {});
    }
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      signal: out.signal,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command and throws (with its stderr) unless it exits 0. Returns stdout. */
export async function mustRun(
  cmd: string[],
  options: { stdin?: string; timeoutMs?: number } = {},
): Promise<string> {
  const result = await run(cmd, options);
  if (result.code !== 0) {
    const input = options.stdin ? `\n--- stdin ---\n${options.stdin}` : "";
    throw new Error(
      `command failed (${result.signal ?? `exit ${result.code}`}): ${cmd.join(" ")}\n` +
        `${result.stderr.trim()}${input}`,
    );
  }
  return result.stdout;
}

/** stdio of {@link spawnInNamespace}; stdout and stderr default to "piped", stdin to "null". */
export interface SpawnOptions {
  /** Extra environment variables (merged into the inherited environment). */
  env?: Record<string, string>;
  /** Default "null". */
  stdin?: "piped" | "null";
  /** Default "piped". */
  stdout?: "piped" | "null" | "inherit";
  /** Default "piped". */
  stderr?: "piped" | "null" | "inherit";
}

/** Options of {@link runInNamespace}: the command is killed after `timeoutMs` (default 30 s). */
export interface ExecOptions {
  /** Extra environment variables (merged into the inherited environment). */
  env?: Record<string, string>;
  /** Text written to the command's stdin, which is then closed. */
  stdin?: string;
  /** Kill the command after this long. Default 30,000 ms. */
  timeoutMs?: number;
}

/** Spawns `ip netns exec <ns> <cmd...>`; deleting the namespace kills it if still running. */
export function spawnInNamespace(
  ns: string,
  cmd: string[],
  options: SpawnOptions = {},
): Deno.ChildProcess {
  return new Deno.Command(tool("ip", "iproute2"), {
    args: ["netns", "exec", ns, ...cmd],
    env: options.env,
    stdin: options.stdin ?? "null",
    stdout: options.stdout ?? "piped",
    stderr: options.stderr ?? "piped",
  }).spawn();
}

/** Runs a command inside namespace `ns` to completion and collects its output. */
export function runInNamespace(
  ns: string,
  cmd: string[],
  options: ExecOptions = {},
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return run([tool("ip", "iproute2"), "netns", "exec", ns, ...cmd], { ...options, timeoutMs });
}
