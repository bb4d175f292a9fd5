/**
 * `-c/--config` and `--default-config`, shared by every server and client mode.
 * @module
 */
import type { Command } from "commander";
import { defaultConfigPath, type Role } from "../config.ts";
import { UsageError } from "../usage_error.ts";

/** Adds the config options to a mode command. */
export function configOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "TOML config file (CLI flags override its values)")
    .option("--default-config", "load ~/.config/tunnel/<server|client>.toml");
}

/**
 * The config path the flags ask for, if any.
 * @throws {UsageError} when both are given.
 */
export function resolveConfigPath(
  flags: { config?: string; defaultConfig?: boolean },
  role: Role = "server",
): string | undefined {
  if (flags.config !== undefined && flags.defaultConfig) {
    throw new UsageError("Use either --config or --default-config, not both");
  }
  if (flags.defaultConfig) return defaultConfigPath(role);
  return flags.config;
}
