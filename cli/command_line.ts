/**
 * What the command line asks for, worked out before commander parses it: the
 * mode of `tunnel server` / `tunnel client` (named, taken from a config file,
 * or iroh), `help` written as a command, the invocations that name nothing to
 * do (they print help), and the wording of a few parse errors.
 * @module
 */
import { type Mode, MODES, type Role } from "./config.ts";
import { UsageError } from "./usage_error.ts";

/** Finds the mode a config file named among the options says (iroh without one). */
export type ModeFromConfig = (options: string[], role: Role) => Promise<Mode>;

/** Commands that can do nothing without arguments: called bare, they print their help. */
const NEED_ARGUMENTS = new Set([
  "generate-server-key",
  "show-server-id",
  "generate-nostr-key",
  "show-npub",
]);

function isRole(word: string | undefined): word is Role {
  return word === "server" || word === "client";
}

function isMode(word: string | undefined): word is Mode {
  return (MODES as readonly (string | undefined)[]).includes(word);
}

/**
 * Rewrites `args` so commander sees a mode after every `server` and `client`:
 * `tunnel server --help` becomes `tunnel server iroh --help` (the default
 * mode's options, which list the modes too), `tunnel server -c f.toml` takes
 * the mode from the file, and `tunnel help X` becomes `tunnel X --help`.
 *
 * @throws {UsageError} for an unknown mode, naming the modes there are.
 * @example
 * ```ts
 * await routeArgs(["server", "--allowed-tcp", "127.0.0.0/8"], async () => "iroh");
 * // ["server", "iroh", "--allowed-tcp", "127.0.0.0/8"]
 * ```
 */
export async function routeArgs(args: string[], modeFromConfig: ModeFromConfig): Promise<string[]> {
  if (args[0] === "help") return await routeArgs([...args.slice(1), "--help"], modeFromConfig);
  const [role, second, third] = args;
  if (!isRole(role) || isMode(second)) return args;
  if (second === undefined) return [role, "iroh"];
  if (second === "help") return [role, isMode(third) ? third : "iroh", "--help"];
  if (!second.startsWith("-")) {
    throw new UsageError(
      `Unknown mode '${second}' for 'tunnel ${role}': use ${MODES.slice(0, -1).join(", ")} or ${
        MODES.at(-1)
      }`,
    );
  }
  const options = args.slice(1);
  if (options.includes("-h") || options.includes("--help")) return [role, "iroh", ...options];
  return [role, await modeFromConfig(options, role), ...options];
}

/**
 * Whether routed `args` call a command with nothing to work with (bare
 * `tunnel`, `tunnel server`, `tunnel show-server-id`...): those print their help.
 * `generate-token` runs bare.
 */
export function wantsHelp(args: string[]): boolean {
  if (args.length === 0) return true;
  if (isRole(args[0])) return args.length === 2;
  return args.length === 1 && NEED_ARGUMENTS.has(args[0]);
}

/**
 * The words naming the command routed `args` run (`["server", "manual"]`,
 * `["generate-token"]`, or `[]` for the program itself).
 */
export function commandPath(args: string[], commands: readonly string[]): string[] {
  if (isRole(args[0])) return isMode(args[1]) ? [args[0], args[1]] : [args[0]];
  if (args[0] === "vpn") return isRole(args[1]) ? ["vpn", args[1]] : ["vpn"];
  return commands.includes(args[0]) ? [args[0]] : [];
}

/** How a user asks for the help of the command routed `args` run. */
export function helpCommand(args: string[], commands: readonly string[]): string {
  const path = commandPath(args, commands);
  // `tunnel server --help` shows iroh mode, so the default mode needs no name.
  const shown = isRole(path[0]) && path[1] === "iroh" ? [path[0]] : path;
  return ["tunnel", ...shown, "--help"].join(" ");
}

/**
 * The message for an argument that no option takes, given the arguments after
 * the command's name. The usual cause is an unquoted value with a space in it
 * (`--server-addr bad host:1`), so the option and its value are named.
 */
export function unexpectedArgumentMessage(
  args: string[],
  takesValue: (option: string) => boolean,
): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") return unexpected(args[i + 1]);
    if (arg.startsWith("-") && arg.length > 1) {
      if (!arg.includes("=") && takesValue(arg)) i++;
      continue;
    }
    const option = args[i - 2];
    if (i >= 2 && option.startsWith("-") && !option.includes("=") && takesValue(option)) {
      const value = args[i - 1];
      return `Unexpected argument '${arg}' after ${option} ${value}: ` +
        `quote a value that contains spaces, as in ${option} '${value} ${arg}'`;
    }
    return unexpected(arg);
  }
  return unexpected(undefined);
}

function unexpected(arg: string | undefined): string {
  return arg === undefined
    ? "Unexpected argument: this command takes only options"
    : `Unexpected argument '${arg}': this command takes only options`;
}
