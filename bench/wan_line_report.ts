/**
 * What the delay line says about one case of the WAN table: the frames each direction
 * carried, lost on purpose (configured loss) and dropped at the configured queue, and the
 * frames it dropped for its own reasons (no free slot, a refused send, a frame too long
 * for a slot). Those last must be zero, or the line and not the path set the figures.
 * @module
 */
import type { DirectionReport } from "../tests/netns/wan/wan_pair.ts";
import type { BenchRow } from "./bench_suite.ts";
import type { WanCase } from "./wan_cases.ts";

/** Both directions' counters, as `WanPair.close()` returns them. */
export interface LineReport {
  /** Left to right (data). */
  ab: DirectionReport;
  /** Right to left (ACKs). */
  ba: DirectionReport;
}

/** The note of a case's delay-line row and whether the case is suspect. */
export interface LineSummary {
  /** One line for the table. */
  note: string;
  /** Frames the line dropped itself (not configured loss or queue); null without counters. */
  ownDrops: number | null;
  /** True when the figures of the case cannot be trusted: own drops, or no counters. */
  suspect: boolean;
}

const count = (n: number) => n.toLocaleString("en-US");

function ownDropsOf(side: DirectionReport): number {
  return side.noSlot + side.sendDrops + side.truncated;
}

function direction(label: string, side: DirectionReport, configuredLoss: number | undefined) {
  const lostShare = side.offered > 0 ? side.lost / side.offered * 100 : 0;
  const lost = configuredLoss
    ? `${count(side.lost)} lost (${lostShare.toFixed(2)}%, set ${configuredLoss * 100}%)`
    : `${count(side.lost)} lost`;
  return `${label} ${count(side.offered)} frames, ${lost}, ${count(side.overflowed)} queue drops`;
}

/**
 * Summarizes the counters of one case's delay line (all rows and runs of the case).
 * `report` is undefined when the line could not report; `noReportReason` then says why
 * (`WanPair.noReportReason()`).
 */
export function summarizeLine(
  report: LineReport | undefined,
  wanCase: WanCase,
  noReportReason?: string,
): LineSummary {
  if (report === undefined) {
    return {
      note: `line: no counters (${noReportReason ?? "it did not report when stopped"})`,
      ownDrops: null,
      suspect: true,
    };
  }
  const own = ownDropsOf(report.ab) + ownDropsOf(report.ba);
  const parts = [
    direction("data:", report.ab, wanCase.ab.loss),
    direction("ACKs:", report.ba, wanCase.ba.loss),
    `line: ${count(own)} own drops (no slot ${count(report.ab.noSlot + report.ba.noSlot)}, ` +
    `send ${count(report.ab.sendDrops + report.ba.sendDrops)}, ` +
    `truncated ${count(report.ab.truncated + report.ba.truncated)})`,
  ];
  return { note: parts.join("; "), ownDrops: own, suspect: own > 0 };
}

/**
 * Title of a case's own table: `<label> <case title>`, marked SUSPECT when the line's
 * figures cannot be trusted.
 */
export function caseTableTitle(label: string, wanCase: WanCase, line: LineSummary): string {
  return `${label} ${wanCase.title}` +
    (line.suspect ? " (SUSPECT: the delay line dropped frames itself or did not report)" : "");
}

/** The last row of a case's table: the delay line's counters. */
export function lineRow(table: string, line: LineSummary): BenchRow {
  return { table, path: "(delay line)", values: {}, note: line.note };
}

/**
 * The note of a case's row in a summary table: the line's own drops (or SUSPECT) and the
 * paths that could not be set up.
 */
export function caseSummaryNote(line: LineSummary, unavailable: Iterable<string>): string {
  const paths = [...unavailable];
  return [
    line.suspect ? "SUSPECT: see the case's delay line row" : `line: ${line.ownDrops} own drops`,
    paths.length > 0 ? `unavailable: ${paths.join(", ")}` : "",
  ].filter(Boolean).join("; ");
}
