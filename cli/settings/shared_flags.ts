/**
 * Flags more than one mode command takes, defined once so they read and behave
 * the same everywhere: the config file (`-c`, `--default-config`), the
 * allowlists (`--allowed-tcp`, `--allowed-udp`), the forwarded source and local
 * target (`-s`, `-t`) and `-v`; and the resolution of their values.
 * @module
 */
import type { Command } from "commander";
import {
  AllowList,
  formatSource,
  parseHostPort,
  parseSource,
  type Source,
} from "../../core/tunnel/mod.ts";
import {
  type Config,
  ConfigError,
  defaultConfigPath,
  loadConfig,
  type Mode,
  type Role,
} from "../config.ts";
import { repeatable } from "../options.ts";
import { asUsageError, UsageError } from "../usage_error.ts";

/** `-c/--config` and `--default-config`. */
export interface ConfigFlags {
  config?: string;
  defaultConfig?: boolean;
}

/** `--allowed-tcp` and `--allowed-udp` (repeatable). */
export interface AllowedNetworkFlags {
  allowedTcp?: string[];
  allowedUdp?: string[];
}

/** `-s/--source` and `-t/--target`. */
export interface ForwardFlags {
  source?: string;
  target?: string;
}

/** `-v/--verbose`. */
export interface VerboseFlag {
  verbose?: boolean;
}

/** Adds the config options to a mode command. */
export function configOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "TOML config file (CLI flags override its values)")
    .option("--default-config", "load ~/.config/tunnel/<server|client>.toml");
}

/** Adds `--allowed-tcp` and `--allowed-udp` to a server mode command. */
export function allowedNetworkOptions(command: Command): Command {
  return command
    .addOption(
      repeatable("--allowed-tcp <cidr>", "allowed TCP networks in CIDR notation (repeatable)"),
    )
    .addOption(
      repeatable("--allowed-udp <cidr>", "allowed UDP networks in CIDR notation (repeatable)"),
    );
}

/** Adds `-s/--source` and `-t/--target` to a client mode command. */
export function forwardOptions(command: Command): Command {
  return command
    .option("-s, --source <url>", "source to request: tcp://host:port or udp://host:port")
    .option(
      "-t, --target <addr>",
      "local address to listen on: host:port, or tcp://host:port / udp://host:port (the source's protocol)",
    );
}

/** Adds `-v/--verbose` to a mode command. */
export function verboseOption(command: Command): Command {
  return command.option("-v, --verbose", "show more detail");
}

/**
 * The config path the flags ask for, if any.
 * @throws {UsageError} when both are given.
 */
export function resolveConfigPath(flags: ConfigFlags, role: Role = "server"): string | undefined {
  if (flags.config !== undefined && flags.defaultConfig) {
    throw new UsageError("Use either --config or --default-config, not both");
  }
  if (flags.defaultConfig) return defaultConfigPath(role);
  return flags.config;
}

/**
 * Loads the config file the flags name for `role` in `mode`, if they name one.
 * @throws {UsageError} when the flags contradict each other or the file is wrong.
 * @throws {Error} when the file cannot be read.
 */
export async function loadModeConfig<R extends Role, M extends Mode>(
  flags: ConfigFlags,
  role: R,
  mode: M,
): Promise<Config<R, M> | undefined> {
  const path = resolveConfigPath(flags, role);
  return path === undefined ? undefined : await loadConfig(path, role, mode);
}

/** The allowlists a server checks sources against. */
export interface AllowedNetworks {
  allowedTcp: AllowList;
  allowedUdp: AllowList;
}

/** A server config file's allowlists, and the file's path to name in errors. */
export interface AllowedSourcesConfig {
  path: string;
  values: { allowed_sources?: { tcp?: string[]; udp?: string[] } };
}

/**
 * The allowlists, from the flags or else the config file's `allowed_sources`.
 * @throws {UsageError} naming a malformed network (and, when the config file
 * gave it, the file and key), or when both lists are empty.
 */
export function resolveAllowedNetworks(
  flags: AllowedNetworkFlags,
  config?: AllowedSourcesConfig,
): AllowedNetworks {
  const sources = config?.values.allowed_sources ?? {};
  const list = (flag: string[] | undefined, key: "tcp" | "udp") => {
    if (flag !== undefined) return asUsageError(() => new AllowList(flag));
    try {
      return new AllowList(sources[key] ?? []);
    } catch (error) {
      throw new ConfigError(
        `Invalid config '${config?.path}': allowed_sources.${key}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
  const allowedTcp = list(flags.allowedTcp, "tcp");
  const allowedUdp = list(flags.allowedUdp, "udp");
  if (allowedTcp.networks.length === 0 && allowedUdp.networks.length === 0) {
    throw new UsageError(
      "No allowed networks: pass --allowed-tcp and/or --allowed-udp (e.g. --allowed-tcp 127.0.0.0/8)",
    );
  }
  return { allowedTcp, allowedUdp };
}

/**
 * `value`, which the flag `flag` or the config key `key` gave.
 * @throws {UsageError} "Missing <flag> (or '<key>' in the config file)" when neither did.
 */
export function requireSetting<T>(value: T | undefined, flag: string, key: string): T {
  if (value === undefined) {
    throw new UsageError(`Missing ${flag} (or '${key}' in the config file)`);
  }
  return value;
}

/**
 * Parses a `-s/--source` value.
 * @throws {UsageError} "Invalid source '<text>': <why> (expected tcp://host:port or udp://host:port)".
 */
export function parseSourceSetting(text: string): Source {
  return asUsageError(() => parseSource(text));
}

/**
 * Parses a `-t/--target` value: the local address the client listens on for
 * `source`, as `HOST:PORT` or, as tunnel-rs writes it, `tcp://HOST:PORT` or
 * `udp://HOST:PORT`. The local end always carries the source's protocol, so a
 * scheme only restates it: one that differs from the source's is refused.
 *
 * @throws {UsageError} naming the value: not `[scheme://]host:port`, another
 * scheme, or a protocol other than the source's.
 * @example
 * ```ts
 * parseTargetSetting("udp://0.0.0.0:51820", { protocol: "udp", host: "127.0.0.1", port: 51820 });
 * // { host: "0.0.0.0", port: 51820 }
 * ```
 */
export function parseTargetSetting(text: string, source: Source): { host: string; port: number } {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme && scheme[1] !== "tcp" && scheme[1] !== "udp") {
    throw new UsageError(
      `Invalid --target '${text}': scheme must be tcp:// or udp:// (or none: host:port)`,
    );
  }
  if (scheme && scheme[1] !== source.protocol) {
    throw new UsageError(
      `Invalid --target '${text}': the source ${
        formatSource(source)
      } is ${source.protocol.toUpperCase()}, so the target listens for ${source.protocol.toUpperCase()} (write ${source.protocol}://... or host:port)`,
    );
  }
  const address = scheme ? text.slice(scheme[0].length) : text;
  return asUsageError(() => parseHostPort(address, "--target address"));
}

/**
 * Checks a URL flag.
 * @throws {TypeError} naming `flag` unless `url` is an http(s) URL.
 */
export function checkHttpUrl(url: string, flag: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch { /* below */ }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    throw new TypeError(`Invalid ${flag} '${url}': expected an http:// or https:// URL`);
  }
  return parsed;
}
