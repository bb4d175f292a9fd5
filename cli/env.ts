/**
 * Environment reads that fail politely when `--allow-env` does not cover them.
 * @module
 */

/** Variables the CLI reads; the forwarding permission set grants exactly these. */
export const ENV_VARS = ["HOME", "XDG_CONFIG_HOME", "TUNNEL_LOG"] as const;

/** Reads `name`, or `undefined` when unset or not permitted. */
export function readEnv(name: typeof ENV_VARS[number]): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
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
