import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import type { Iperf3Result } from "./iperf3.ts";
import { QUIET_DIRECTION } from "./wan_test_fixtures.ts";
import type { PathRuns } from "./path_runs.ts";
import { WAN_UDP_PATHS, type WanUdpPathKind } from "./wan_paths.ts";
import { WAN_UDP_CASES } from "./wan_udp_cases.ts";
import { udpCaseRows, type UdpRun, udpSummaryRow, type WanUdpCaseResult } from "./wan_udp_suite.ts";

const quiet = QUIET_DIRECTION;

function udp(datagramsPerSec: number, lostPercent: number, jitterMs: number, right = 0): UdpRun {
  const iperf3: Iperf3Result = {
    mbPerSec: 99,
    lostPercent,
    jitterMs,
    datagramsPerSec,
    intervals: null,
  };
  return { iperf3, rcvbufErrors: { left: 0, right } };
}

function result(line: WanUdpCaseResult["line"]): WanUdpCaseResult {
  return {
    wanCase: WAN_UDP_CASES[3],
    runs: new Map<WanUdpPathKind, PathRuns<UdpRun>>([
      ["direct", { results: [udp(20_000, 0, 0.1), udp(19_000, 5, 0.3, 40)], errors: [] }],
      ["tunnel", { results: [udp(5_000, 75, 300)], errors: ["Cannot run iperf3: timed out"] }],
    ]),
    unavailable: new Map([["tunnel via relay", "tunnel client (relay) UDP: Error: no"]]),
    line,
  };
}

Deno.test("udpCaseRows(): received MB/s from datagrams x 1000 B, medians, runs, line row", () => {
  const rows = udpCaseRows(result({ ab: quiet, ba: quiet }));
  deepStrictEqual(rows.map((row) => row.path), [...WAN_UDP_PATHS, "(delay line)"]);
  match(rows[0].table, /^WAN UDP RTT 80 ms, ±5 ms jitter/);
  deepStrictEqual(rows[0].values, {
    "MB/s": 19.5,
    "loss %": 2.5,
    "jitter ms": 0.2,
    "rcvbuf drops left": 0,
    "rcvbuf drops right": 20,
  });
  match(rows[0].note!, /^runs: 20\.0 MB\/s 0\.00% 0\.10 ms, rcvbuf 0\/0 \/ 19\.0 MB\/s 5\.00% /);
  match(rows[1].note!, /; 1 failed: Cannot run iperf3: timed out$/);
  strictEqual(rows[2].note, "unavailable: tunnel client (relay) UDP: Error: no");
  strictEqual(rows[2].values["MB/s"], null);
  match(rows[3].note!, /line: 0 own drops/);
});

Deno.test("udpSummaryRow(): MB/s and loss per path; SUSPECT when the line did not report", () => {
  const row = udpSummaryRow(result(undefined), { runs: 2, durationSec: 4 });
  strictEqual(row.values["direct MB/s"], 19.5);
  strictEqual(row.values["tunnel loss %"], 75);
  strictEqual(row.values["tunnel via relay MB/s"], null);
  match(row.note!, /^SUSPECT: .*; unavailable: tunnel via relay$/);
  match(udpCaseRows(result(undefined))[0].table, /SUSPECT/);
});
