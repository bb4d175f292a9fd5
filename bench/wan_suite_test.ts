import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import type { ReceiverInterval } from "./iperf3_seconds.ts";
import { WAN_CASES } from "./wan_cases.ts";
import { QUIET_DIRECTION } from "./wan_test_fixtures.ts";
import type { PathRuns } from "./path_runs.ts";
import type { WanCaseResult } from "./wan_case_run.ts";
import { WAN_PATHS, type WanPathKind } from "./wan_paths.ts";
import { caseRows, summaryRow, WAN_LAYOUT, type WanTcpRun } from "./wan_suite.ts";

const quiet = QUIET_DIRECTION;

function tcp(mbPerSec: number, intervals: ReceiverInterval[] = [], rcvbufDrops = 0): WanTcpRun {
  return {
    mbPerSec,
    lostPercent: null,
    jitterMs: null,
    datagramsPerSec: null,
    intervals,
    rcvbufDrops,
  };
}

type Result = WanCaseResult<WanPathKind, WanTcpRun>;

function result(line: Result["line"]): Result {
  const runs = new Map<WanPathKind, PathRuns<WanTcpRun>>([
    ["direct", {
      results: [tcp(30, [{ seconds: 1, bytes: 0 }, { seconds: 1, bytes: 4e6 }]), tcp(10), tcp(20)],
      errors: [],
    }],
    ["tunnel", { results: [tcp(20, [], 300), tcp(20, [], 100), tcp(20, [], 200)], errors: [] }],
    ["ssh -L", { results: [tcp(10), tcp(10), tcp(10)], errors: [] }],
    ["bare QUIC", { results: [], errors: ["Cannot run iperf3: timed out"] }],
  ]);
  return {
    wanCase: WAN_CASES[2],
    runs,
    unavailable: new Map([["tunnel via relay", "tunnel relay: Error: no"]]),
    line,
  };
}

Deno.test("caseRows(): medians, ratio to ssh -L, seconds, unavailable rows, the line row", () => {
  const rows = caseRows(result({ ab: quiet, ba: quiet }), WAN_LAYOUT);
  deepStrictEqual(rows.map((row) => row.path), [...WAN_PATHS, "(delay line)"]);
  strictEqual(rows[0].table, "WAN RTT 80 ms");
  deepStrictEqual(rows[0].values, {
    "MB/s": 20,
    "vs ssh -L": 2,
    "slowest 1 s (MB/s)": 0,
    "seconds at 0 B": 1,
    "UDP rcvbuf drops/run": 0,
  });
  strictEqual(rows[3].values["UDP rcvbuf drops/run"], 200);
  strictEqual(rows[2].values["UDP rcvbuf drops/run"], null);
  match(rows[0].note!, /^runs: 30\.0 \/ 10\.0 \/ 20\.0 \(min 10\.0, max 30\.0\); 2 s counted$/);
  match(rows[2].note!, /^1 failed: Cannot run iperf3: timed out$/);
  strictEqual(rows[4].note, "unavailable: tunnel relay: Error: no");
  strictEqual(rows[4].values["MB/s"], null);
  match(rows[5].note!, /line: 0 own drops/);
});

Deno.test("caseRows() and summaryRow() mark a case whose line dropped frames itself", () => {
  const bad = result({ ab: { ...quiet, noSlot: 1 }, ba: quiet });
  match(caseRows(bad, WAN_LAYOUT)[0].table, /SUSPECT/);
  const summary = summaryRow(bad, WAN_LAYOUT, { runs: 3, durationSec: 4 });
  strictEqual(summary.path, "RTT 80 ms");
  strictEqual(summary.values["direct"], 20);
  strictEqual(summary.values["tunnel via relay"], null);
  match(summary.note!, /^SUSPECT: .*; unavailable: tunnel via relay$/);
  strictEqual(
    summaryRow(result({ ab: quiet, ba: quiet }), WAN_LAYOUT, { runs: 1, durationSec: 1 }).note,
    "line: 0 own drops; unavailable: tunnel via relay",
  );
});
