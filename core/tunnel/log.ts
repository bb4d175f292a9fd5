/**
 * Where session logic reports what happens; the CLI decides how it is shown.
 * @module
 */

/** A sink for status lines. */
export interface TunnelLog {
  /** Short status lines a user wants by default. */
  info(message: string): void;
  /** Detail for `-v` / `TUNNEL_LOG=debug`. */
  debug(message: string): void;
  /** Something went wrong for one peer or connection, the process goes on. */
  warn(message: string): void;
}

/** A log that drops everything (tests, library use). */
export const silentLog: TunnelLog = { info() {}, debug() {}, warn() {} };

/** Formats a byte count for status lines. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
