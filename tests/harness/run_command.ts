/** Options for {@linkcode runCommand}. */
export interface RunCommandOptions {
  /** Arguments after the command. */
  args?: string[];
  /** Working directory of the child. */
  cwd?: string | URL;
  /** Extra environment variables (merged into the inherited environment). */
  env?: Record<string, string>;
  /** Text or bytes written to the child's stdin, which is then closed. Default: no stdin. */
  stdin?: string | Uint8Array;
  /** SIGKILL the child after this long. Default 60,000 ms. */
  timeoutMs?: number;
}

/** What a finished one-shot command produced. */
export interface CommandResult {
  /** Exit code (non-zero when killed). */
  code: number;
  /** The signal that ended it, if any. */
  signal: Deno.Signal | null;
  /** Everything written to stdout, decoded as UTF-8. */
  stdout: string;
  /** Everything written to stderr, decoded as UTF-8. */
  stderr: string;
  /** True when the timeout killed it. */
  timedOut: boolean;
}

/**
 * Runs a command to completion, collecting its output, with a hard time limit.
 *
 * @throws {Deno.errors.NotFound} when the command does not exist.
 * @example
 * ```ts
 * const { code, stdout } = await runCommand("iperf3", { args: ["--version"] });
 * ```
 */
export async function runCommand(
  command: string,
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const child = new Deno.Command(command, {
    args: options.args ?? [],
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited just now.
    }
  }, options.timeoutMs ?? 60_000);
  try {
    // Feed stdin while output is being read, so a large input cannot deadlock on a
    // child that fills its stdout pipe before reading all of stdin.
    const feeding = options.stdin === undefined ? Promise.resolve() : feed(child, options.stdin);
    const output = await child.output();
    await feeding;
    const decoder = new TextDecoder();
    return {
      code: output.code,
      signal: output.signal,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

async function feed(child: Deno.ChildProcess, input: string | Uint8Array): Promise<void> {
  const writer = child.stdin.getWriter();
  try {
    await writer.write(typeof input === "string" ? new TextEncoder().encode(input) : input);
    await writer.close();
  } catch {
    // The child exited without reading everything; its exit code tells the story.
    await writer.abort().catch(() => {});
  }
}
