import { match, strictEqual } from "node:assert/strict";
import type { DirectionReport } from "../tests/netns/wan/wan_pair.ts";
import { WAN_CASES } from "./wan_cases.ts";
import { summarizeLine } from "./wan_line_report.ts";

function side(fields: Partial<DirectionReport> = {}): DirectionReport {
  return {
    offered: 1000,
    lost: 0,
    overflowed: 0,
    departed: 1000,
    departedBytes: 1_514_000,
    truncated: 0,
    noSlot: 0,
    sendDrops: 0,
    pending: 0,
    ...fields,
  };
}
const lossCase = WAN_CASES.find((c) => c.id === "loss0.5")!;

Deno.test("summarizeLine(): configured loss is reported beside the setting, not as suspect", () => {
  const summary = summarizeLine({ ab: side({ lost: 5 }), ba: side() }, lossCase);
  strictEqual(summary.suspect, false);
  strictEqual(summary.ownDrops, 0);
  match(summary.note, /^data: 1,000 frames, 5 lost \(0\.50%, set 0\.5%\), 0 queue drops; /);
  match(summary.note, /line: 0 own drops \(no slot 0, send 0, truncated 0\)$/);
});

Deno.test("summarizeLine(): frames the line dropped itself mark the case", () => {
  const summary = summarizeLine({ ab: side({ noSlot: 3 }), ba: side({ sendDrops: 2 }) }, lossCase);
  strictEqual(summary.suspect, true);
  strictEqual(summary.ownDrops, 5);
  match(summary.note, /line: 5 own drops \(no slot 3, send 2, truncated 0\)/);
  const silent = summarizeLine(undefined, lossCase, "it exited with code 1: boom");
  strictEqual(silent.suspect, true);
  strictEqual(silent.ownDrops, null);
  strictEqual(silent.note, "line: no counters (it exited with code 1: boom)");
});
