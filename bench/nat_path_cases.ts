/**
 * The NAT-path table's pure part (`deno task bench --only nat-paths`, issue 23 item 5): which
 * bed each method is measured in, how a client's path line reads, the bounded run loop and
 * the shaping of runs into rows. The suite that builds the beds is `nat_path_suite.ts`.
 * @module
 */
import type { NatKind } from "../tests/netns/mod.ts";
import type { BenchRow } from "./bench_suite.ts";
import { formatValue } from "./markdown_table.ts";
import { median } from "./stats.ts";

/** One row of the table: a way to a direct path (or the relay) and the bed that forces it. */
export interface NatPathCase {
  /** Row label: the method and the NAT pair, client first. */
  label: string;
  /** The client's NAT. */
  left: NatKind;
  /** The server's NAT, or both hosts on one LAN. */
  right: NatKind | "same-lan";
  /**
   * Both sides get two STUN servers (198.51.100.1 and .2), so each can tell whether its
   * NAT's mapping depends on the destination: birthday punching needs that.
   */
  twoStun: boolean;
  /** miniupnpd (UPnP IGD, NAT-PMP, PCP) runs on the server's router. */
  serverRouterMaps: boolean;
  /**
   * What the client's `path: direct` line may name in this row (`record` for an address
   * dialed from the server's record); empty: the row stays on the relay.
   */
  accepts: readonly string[];
}

/** The rows, in order; the relay row is the reference of the `vs relay` column. */
export const NAT_PATH_CASES: readonly NatPathCase[] = [
  {
    label: "host (same LAN)",
    left: "port-restricted",
    right: "same-lan",
    twoStun: false,
    serverRouterMaps: false,
    accepts: ["host"],
  },
  {
    label: "server-reflexive (port-restricted x port-restricted)",
    left: "port-restricted",
    right: "port-restricted",
    twoStun: false,
    serverRouterMaps: false,
    accepts: ["server-reflexive", "peer-reflexive"],
  },
  {
    label: "birthday (port-restricted x symmetric)",
    left: "port-restricted",
    right: "symmetric",
    twoStun: true,
    serverRouterMaps: false,
    accepts: ["birthday"],
  },
  {
    label: "port-mapped (symmetric x symmetric, server's router maps)",
    left: "symmetric",
    right: "symmetric",
    twoStun: false,
    serverRouterMaps: true,
    accepts: ["port-mapped"],
  },
  {
    label: "relay (symmetric x symmetric, nothing mapped)",
    left: "symmetric",
    right: "symmetric",
    twoStun: false,
    serverRouterMaps: false,
    accepts: [],
  },
];

/** The row whose throughput the others are compared with. */
export const RELAY_REFERENCE = NAT_PATH_CASES[NAT_PATH_CASES.length - 1].label;

// `path: direct 198.51.100.20:4000 (server-reflexive), rtt 0.4 ms`, `path: relay http://...`.
const PATH_LINE = /^path: (?:direct \S+(?: \(([\w-]+)\))?, rtt|(relay) )/;

/**
 * What a client's path line says: the method of a direct path (`record` when the line names
 * none: an address dialed from the server's record), `relay`, or null for any other line.
 */
export function pathOfLine(line: string): string | null {
  const match = PATH_LINE.exec(line);
  if (match === null) return null;
  return match[2] ?? match[1] ?? "record";
}

/** One measured run: a fresh server and client in the row's bed. */
export interface NatPathRun {
  /** Client spawn to its first `path: direct` line, ms; null on the relay. */
  toDirectMs: number | null;
  /** The client's path when the transfer ended ({@linkcode pathOfLine}). */
  path: string;
  /** Bulk transfer through the tunnel, MB/s. */
  mbPerSec: number;
}

/** A run, or why it failed. */
export type NatPathAttempt = { run: NatPathRun } | { error: string };

/**
 * Runs `runOnce` up to `count` times, one after the other, but starts none once `budgetMs`
 * has passed since the first (a run already going is not cut: its own steps are bounded).
 * A run that throws is kept as its error's first line. `now` is the clock (ms).
 */
export async function boundedRuns(
  count: number,
  budgetMs: number,
  runOnce: () => Promise<NatPathRun>,
  now: () => number = () => performance.now(),
): Promise<NatPathAttempt[]> {
  const started = now();
  const attempts: NatPathAttempt[] = [];
  // Bounded by `count` and by the budget.
  while (attempts.length < count && now() - started < budgetMs) {
    try {
      attempts.push({ run: await runOnce() });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      attempts.push({ error: message.split("\n")[0].trim() });
    }
  }
  return attempts;
}

/** A row's outcome: its runs, or why its bed could not be built. */
export interface NatPathResult {
  case: NatPathCase;
  attempts: readonly NatPathAttempt[];
  /** The bed (or a fixture of it) could not be set up: no run was made. */
  unavailable?: string;
}

function isExpected(c: NatPathCase, run: NatPathRun): boolean {
  return c.accepts.length === 0 ? run.path === "relay" : c.accepts.includes(run.path);
}

function counted(paths: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const path of paths) counts.set(path, (counts.get(path) ?? 0) + 1);
  return [...counts].map(([path, n]) => `${path} x${n}`).join(", ");
}

/**
 * One row per result: medians over the runs that ended on the row's method (a run that
 * ended on another path is left out of the figures and named in the note), the ratio of
 * MB/s to the relay row's; the note has the path each run ended on and the individual runs.
 */
export function natPathRows(table: string, results: readonly NatPathResult[]): BenchRow[] {
  const good = (r: NatPathResult) =>
    r.attempts.flatMap((a) => "run" in a && isExpected(r.case, a.run) ? [a.run] : []);
  const reference = results.find((r) => r.case.label === RELAY_REFERENCE);
  const relayRuns = reference ? good(reference).map((run) => run.mbPerSec) : [];
  const relayMbPerSec = relayRuns.length > 0 ? median(relayRuns) : null;
  return results.map((result): BenchRow => {
    const runs = good(result);
    const toDirect = runs.flatMap((run) => run.toDirectMs === null ? [] : [run.toDirectMs]);
    const mbPerSec = runs.length > 0 ? median(runs.map((run) => run.mbPerSec)) : null;
    const values = {
      "to direct ms": toDirect.length > 0 ? median(toDirect) : null,
      "MB/s": mbPerSec,
      "vs relay": mbPerSec !== null && relayMbPerSec ? mbPerSec / relayMbPerSec : null,
    };
    if (result.unavailable !== undefined) {
      return { table, path: result.case.label, values, note: `unavailable: ${result.unavailable}` };
    }
    const all = result.attempts.flatMap((a) => "run" in a ? [a.run] : []);
    const other = all.filter((run) => !isExpected(result.case, run));
    const errors = result.attempts.flatMap((a) => "error" in a ? [a.error] : []);
    const note = [
      all.length > 0 ? `ended on: ${counted(all.map((run) => run.path))}` : "",
      toDirect.length > 0 ? `to direct: ${toDirect.map(formatValue).join(" / ")} ms` : "",
      runs.length > 0 ? `MB/s: ${runs.map((run) => formatValue(run.mbPerSec)).join(" / ")}` : "",
      other.length > 0 ? `${other.length} left out (not ${result.case.accepts[0] ?? "relay"})` : "",
      errors.length > 0 ? `${errors.length} failed: ${errors[0]}` : "",
      result.attempts.length === 0 ? "no run within the time budget" : "",
    ].filter(Boolean).join("; ");
    return { table, path: result.case.label, values, note };
  });
}
