import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import type { DirectionReport } from "../tests/netns/wan/wan_pair.ts";
import type { ReceiverInterval } from "./iperf3_seconds.ts";
import { WAN_CASES } from "./wan_cases.ts";
import { WAN_PATHS, type WanPathKind } from "./wan_paths.ts";
import { caseRows, summaryRow, type WanCaseResult } from "./wan_suite.ts";

const quiet: DirectionReport = {
  offered: 10,
  lost: 0,
  overflowed: 0,
  departed: 10,
  departedBytes: 15_140,
  truncated: 0,
  noSlot: 0,
  sendDrops: 0,
  pending: 0,
};

function result(line: WanCaseResult["line"]): WanCaseResult {
  const none = () => new Map<WanPathKind, never[]>(WAN_PATHS.map((p) => [p, []]));
  const samples = new Map<WanPathKind, number[]>(WAN_PATHS.map((p) => [p, []]));
  samples.set("direct", [30, 10, 20]);
  samples.set("ssh -L", [10, 10, 10]);
  const intervals = new Map<WanPathKind, ReceiverInterval[]>(none());
  intervals.set("direct", [{ seconds: 1, bytes: 0 }, { seconds: 1, bytes: 4e6 }]);
  const errors = new Map<WanPathKind, string[]>(none());
  errors.set("bare QUIC", ["Cannot run iperf3: timed out"]);
  return {
    wanCase: WAN_CASES[2],
    samples,
    intervals,
    errors,
    unavailable: new Map([["tunnel via relay", "tunnel relay: Error: no"]]),
    line,
  };
}

Deno.test("caseRows(): medians, ratio to ssh -L, seconds, unavailable rows, the line row", () => {
  const rows = caseRows(result({ ab: quiet, ba: quiet }));
  deepStrictEqual(rows.map((row) => row.path), [...WAN_PATHS, "(delay line)"]);
  strictEqual(rows[0].table, "WAN RTT 80 ms");
  deepStrictEqual(rows[0].values, {
    "MB/s": 20,
    "vs ssh -L": 2,
    "slowest 1 s (MB/s)": 0,
    "seconds at 0 B": 1,
  });
  match(rows[0].note!, /^runs: 30\.0 \/ 10\.0 \/ 20\.0 \(min 10\.0, max 30\.0\); 2 s counted$/);
  match(rows[2].note!, /^1 failed: Cannot run iperf3: timed out$/);
  strictEqual(rows[4].note, "unavailable: tunnel relay: Error: no");
  strictEqual(rows[4].values["MB/s"], null);
  match(rows[5].note!, /line: 0 own drops/);
});

Deno.test("caseRows() and summaryRow() mark a case whose line dropped frames itself", () => {
  const bad = result({ ab: { ...quiet, noSlot: 1 }, ba: quiet });
  match(caseRows(bad)[0].table, /SUSPECT/);
  const summary = summaryRow(bad, { runs: 3, durationSec: 4 });
  strictEqual(summary.path, "RTT 80 ms");
  strictEqual(summary.values["direct"], 20);
  strictEqual(summary.values["tunnel via relay"], null);
  match(summary.note!, /^SUSPECT: .*; unavailable: tunnel via relay$/);
  strictEqual(
    summaryRow(result({ ab: quiet, ba: quiet }), { runs: 1, durationSec: 1 }).note,
    "line: 0 own drops; unavailable: tunnel via relay",
  );
});
