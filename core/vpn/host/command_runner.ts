/**
 * Runs the system tools that configure VPN mode (`ip`, `iptables`, `ifconfig`,
 * `route`) and turns their failures into one line naming the command.
 * @module
 */

/** How a command finished. */
export interface CommandOutcome {
  /** Exit status; non-zero is a failure. */
  code: number;
  /** Standard output, as text. */
  stdout: string;
  /** Standard error, as text. */
  stderr: string;
}

/** Runs one command (argv[0] looked up on PATH). Fakes stand in for it in tests. */
export type CommandRunner = (argv: readonly string[]) => Promise<CommandOutcome>;

// Tools that are missing on a bare system, and where they come from.
const PACKAGES: Record<string, string> = { ip: "iproute2", iptables: "iptables" };

/**
 * Runs `argv` with `Deno.Command` (`--allow-run` for `argv[0]`).
 *
 * @throws {Error} one line when the tool is missing or not allowed; exit codes are returned.
 */
export async function systemRunner(argv: readonly string[]): Promise<CommandOutcome> {
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const hint = PACKAGES[argv[0]] ? ` (install ${PACKAGES[argv[0]]})` : "";
      throw new Error(`Cannot run '${argv[0]}': not found on PATH${hint}`);
    }
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(
        `Cannot run '${argv[0]}': not permitted (run Deno with --allow-run=${argv[0]})`,
      );
    }
    throw error;
  }
}

/**
 * Runs one command and returns its output.
 *
 * @throws {Error} "'ip route add 10.1.0.0/16 dev tun0' failed: RTNETLINK answers: File exists".
 * @example
 * ```ts ignore
 * await runCommand(["ip", "link", "set", "dev", "tun0", "up"]);
 * ```
 */
export async function runCommand(
  argv: readonly string[],
  runner: CommandRunner = systemRunner,
): Promise<string> {
  const outcome = await runner(argv);
  if (outcome.code !== 0) {
    const lines = outcome.stderr.split("\n").map((line) => line.trim()).filter((line) => line);
    // iptables follows its reason with a usage hint ("Try `iptables -h'").
    const why = lines.find((line) => !/^Try `/.test(line)) ?? `exit status ${outcome.code}`;
    throw new Error(`'${argv.join(" ")}' failed: ${why}`);
  }
  return outcome.stdout;
}

/**
 * Runs commands in order, stopping at the first failure.
 *
 * @throws {Error} as {@link runCommand}.
 */
export async function runCommands(
  commands: readonly (readonly string[])[],
  runner: CommandRunner = systemRunner,
): Promise<void> {
  for (const argv of commands) await runCommand(argv, runner);
}
