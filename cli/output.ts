/**
 * What the CLI prints: status lines on stdout, problems on stderr, detail only
 * when asked for (`-v` or `TUNNEL_LOG=debug`).
 * @module
 */
import type { TunnelLog } from "../core/tunnel/mod.ts";
import { readEnv } from "./env.ts";

/** A {@linkcode TunnelLog} that writes to the terminal. */
export class Output implements TunnelLog {
  readonly verbose: boolean;

  constructor(verbose = false) {
    this.verbose = verbose || readEnv("TUNNEL_LOG")?.toLowerCase() === "debug";
  }

  info(message: string): void {
    console.log(message);
  }

  debug(message: string): void {
    if (this.verbose) console.error(`debug: ${message}`);
  }

  warn(message: string): void {
    console.error(`warning: ${message}`);
  }
}
