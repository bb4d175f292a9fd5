/**
 * What the CLI prints: status lines on stdout, problems on stderr, detail only
 * when asked for (`-v` or `TUNNEL_LOG=debug`).
 * @module
 */
import type { TunnelLog } from "../core/tunnel/mod.ts";
import { envReadable, readEnv } from "./env.ts";

let warnedUnreadableLog = false;

/** A {@linkcode TunnelLog} that writes to the terminal. */
export class Output implements TunnelLog {
  readonly verbose: boolean;

  /**
   * With `verbose` unset, reads `TUNNEL_LOG`; when Deno may not read it, says
   * so once (a `TUNNEL_LOG=debug` would otherwise be ignored without a word).
   */
  constructor(verbose = false) {
    if (!verbose && !envReadable("TUNNEL_LOG") && !warnedUnreadableLog) {
      warnedUnreadableLog = true;
      this.warn(
        "TUNNEL_LOG is not readable, so TUNNEL_LOG=debug has no effect " +
          "(run with --allow-env=...,TUNNEL_LOG, or use -v)",
      );
    }
    this.verbose = verbose || readEnv("TUNNEL_LOG")?.toLowerCase() === "debug";
  }

  info(message: string): void {
    console.log(message);
  }

  debug(message: string): void {
    if (this.verbose) console.error(`debug: ${message}`);
  }

  /** An instruction to the person at the terminal (stderr, so stdout stays the blocks). */
  prompt(message: string): void {
    console.error(message);
  }

  warn(message: string): void {
    console.error(`warning: ${message}`);
  }
}
