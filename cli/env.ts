/**
 * Environment reads that fail politely when `--allow-env` does not cover them.
 * @module
 */

/** Variables the CLI reads; the forwarding permission set grants exactly these. */
export const ENV_VARS = [
  "HOME",
  "XDG_CONFIG_HOME",
  "TUNNEL_LOG",
  "TUNNEL_AUTH_TOKEN",
  "TUNNEL_AUTH_TOKENS",
  "TUNNEL_RELAY_TOKEN",
] as const;

/** One of {@linkcode ENV_VARS}. */
export type EnvVar = typeof ENV_VARS[number];

/** Reads `name`, or `undefined` when unset or not permitted. */
export function readEnv(name: EnvVar): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Whether `name` may be read; asks nothing (never prompts). */
export function envReadable(name: EnvVar): boolean {
  return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
}

/** A variable's value, and whether it could be read at all. */
export interface EnvSetting {
  name: EnvVar;
  /** Undefined when unset, empty, or not readable. */
  value: string | undefined;
  readable: boolean;
}

/** Reads `name` for a setting, remembering whether it was readable. */
export function readEnvSetting(name: EnvVar): EnvSetting {
  const readable = envReadable(name);
  return { name, value: readable ? readEnv(name) || undefined : undefined, readable };
}

/**
 * Text to end a "missing setting" message with when the variable that could
 * have held it was not readable; empty otherwise.
 */
export function unreadableHint(setting: EnvSetting | undefined): string {
  if (!setting || setting.readable) return "";
  return ` (${setting.name} was not read: add it to Deno's --allow-env)`;
}

/**
 * The directory of default config files: `$XDG_CONFIG_HOME/tunnel` or `~/.config/tunnel`.
 * @throws {Error} when neither variable can be read.
 */
export function configDir(): string {
  const xdg = readEnv("XDG_CONFIG_HOME");
  if (xdg) return `${xdg}/tunnel`;
  const home = readEnv("HOME");
  if (!home) {
    throw new Error(
      "Cannot find the default config: HOME is not set or not readable (run with --allow-env=HOME, or pass -c FILE)",
    );
  }
  return `${home}/.config/tunnel`;
}

/** Expands a leading `~/` to the home directory. */
export function expandHome(path: string): string {
  if (!path.startsWith("~/")) return path;
  const home = readEnv("HOME");
  if (!home) throw new Error(`Cannot expand '${path}': HOME is not set or not readable`);
  return home + path.slice(1);
}
