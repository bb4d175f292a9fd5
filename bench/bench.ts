/**
 * Loopback benchmark of the tunnel against direct, socat and `ssh -L`.
 *
 *     deno run -A --unstable-net bench/bench.ts [--json FILE] [--runs N] [--duration S]
 *                                              [--only NAME,NAME] [--tunnel-main PATH]
 *                                              [--wan-cases ID,ID]
 *
 * Prints Markdown to stdout, progress to stderr. Rows whose path cannot be set up
 * (e.g. the tunnel CLI not runnable yet) say "unavailable: <reason>"; the rest still run.
 *
 * @module
 */
import { BenchEnvironment } from "./bench_environment.ts";
import type { BenchOptions, BenchRow } from "./bench_suite.ts";
import { reasonOf } from "./bench_suite.ts";
import { formatMachineInfo, machineInfo } from "./machine_info.ts";
import { markdownTables } from "./markdown_table.ts";
import { SUITES } from "./suites.ts";
import { selectWanCases, WAN_CASES } from "./wan_cases.ts";

/** Parsed command line of the benchmark. */
export interface BenchArgs extends BenchOptions {
  /** Also write the results as JSON here. */
  json?: string;
  /** Run only these suites (by name). */
  only?: string[];
  /** CLI entry point for the tunnel rows (default cli/main.ts). */
  tunnelMain?: string;
  /** Print usage and exit. */
  help: boolean;
}

/**
 * Parses the benchmark's flags.
 *
 * @throws {TypeError} for an unknown flag or a missing or bad value.
 */
export function parseBenchArgs(args: readonly string[]): BenchArgs {
  const parsed: BenchArgs = { runs: 3, durationSec: 4, help: false };
  // Bounded by the argument count.
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new TypeError(`Cannot parse ${flag}: missing value`);
      return next;
    };
    const count = (min: number, max: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min || n > max) {
        throw new TypeError(`Cannot parse ${flag}: expected an integer in ${min}..${max}`);
      }
      return n;
    };
    if (flag === "--json") parsed.json = value();
    else if (flag === "--runs") parsed.runs = count(1, 10);
    else if (flag === "--duration") parsed.durationSec = count(1, 60);
    else if (flag === "--only") parsed.only = value().split(",").filter(Boolean);
    else if (flag === "--tunnel-main") parsed.tunnelMain = value();
    else if (flag === "--wan-cases") parsed.wanCases = value().split(",").filter(Boolean);
    else if (flag === "--help" || flag === "-h") parsed.help = true;
    else throw new TypeError(`Cannot parse arguments: unknown flag ${flag}`);
  }
  const unknown = parsed.only?.filter((name) => !SUITES.some((suite) => suite.name === name));
  if (unknown?.length) throw new TypeError(`Cannot parse --only: unknown suite ${unknown}`);
  if (parsed.wanCases !== undefined) selectWanCases(parsed.wanCases);
  return parsed;
}

function usage(): string {
  return [
    "Usage: deno task bench [--json FILE] [--runs N (3)] [--duration S (4)] [--only NAME,...]",
    "                       [--tunnel-main PATH (cli/main.ts)] [--wan-cases ID,... (all)]",
    "Suites:",
    ...SUITES.map((suite) => `  ${suite.name.padEnd(16)} ${suite.description}`),
    `WAN cases: ${WAN_CASES.map((c) => c.id).join(", ")}`,
  ].join("\n");
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(Deno.args);
  } catch (error) {
    console.error(`${reasonOf(error)}\n${usage()}`);
    return 2;
  }
  if (args.help) {
    console.log(usage());
    return 0;
  }
  const started = performance.now();
  const info = await machineInfo();
  const env = new BenchEnvironment({ mainModule: args.tunnelMain });
  // Ctrl-C must not leave sshd, socat, iperf3 or tunnel processes behind.
  const onInterrupt = () => {
    console.error("interrupted: stopping child processes");
    env.stop().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const rows: BenchRow[] = [];
  try {
    for (const suite of SUITES.filter((s) => !args.only || args.only.includes(s.name))) {
      const t0 = performance.now();
      console.error(`[bench] ${suite.name} ...`);
      try {
        rows.push(...await suite.run(env, args));
      } catch (error) {
        rows.push({
          table: suite.name,
          path: "(suite)",
          values: {},
          note: `failed: ${reasonOf(error)}`,
        });
      }
      console.error(
        `[bench] ${suite.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    }
  } finally {
    await env.stop();
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  const totalSec = (performance.now() - started) / 1000;
  console.log(
    [
      "## tunnel benchmark",
      "",
      formatMachineInfo(info),
      `Options: runs ${args.runs}, iperf3 -t ${args.durationSec}; total ${totalSec.toFixed(0)} s`,
      "",
      markdownTables(rows),
    ].join("\n"),
  );
  if (args.json) {
    const report = {
      machine: info,
      options: { runs: args.runs, durationSec: args.durationSec, wanCases: args.wanCases },
      totalSec,
      rows,
    };
    const dir = args.json.slice(0, args.json.lastIndexOf("/") + 1);
    if (dir !== "") await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(args.json, JSON.stringify(report, null, 2) + "\n");
    console.error(`[bench] wrote ${args.json}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
