/**
 * Helpers shared by the commands' option definitions and settings resolution.
 * @module
 */
import { Option } from "commander";
import { UsageError } from "./usage_error.ts";

/** Collects a repeatable option into a list (undefined when never given). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable string option. */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser(collect);
}

/**
 * Parses a positive integer option value.
 * @throws {UsageError} naming the option and the value.
 */
export function positiveInteger(name: string) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
      throw new UsageError(`Invalid ${name} '${value}': must be a positive integer`);
    }
    return Number(value);
  };
}

/** The first defined value: the CLI's, then the config file's, then the default. */
export function pick<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((value) => value !== undefined);
}

/** Resolves after SIGINT or SIGTERM (Ctrl-C, service stop). */
export function shutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}
