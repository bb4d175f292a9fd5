import { deepEqual as assertEquals } from "node:assert/strict";
import {
  boundedRuns,
  NAT_PATH_CASES,
  natPathRows,
  type NatPathRun,
  pathOfLine,
  RELAY_REFERENCE,
} from "./nat_path_cases.ts";

const byLabel = (start: string) => NAT_PATH_CASES.find((c) => c.label.startsWith(start))!;
const run = (path: string, mbPerSec: number, toDirectMs: number | null = 1000): NatPathRun => ({
  path,
  mbPerSec,
  toDirectMs,
});

Deno.test("pathOfLine reads the method of a direct path, a record address, the relay", () => {
  assertEquals(
    pathOfLine("path: direct 198.51.100.20:4000 (server-reflexive), rtt 0.4 ms"),
    "server-reflexive",
  );
  assertEquals(pathOfLine("path: direct 198.51.100.20:4000 (birthday), rtt 3.0 ms"), "birthday");
  assertEquals(pathOfLine("path: direct 10.0.1.3:43181, rtt 4.0 ms"), "record");
  assertEquals(pathOfLine("path: relay http://198.51.100.1:3340/, rtt 1.2 ms"), "relay");
  assertEquals(pathOfLine("Tunnel ready: 127.0.0.1:4000 -> tcp://127.0.0.1:5201"), null);
  assertEquals(pathOfLine("path: directly nowhere"), null);
});

Deno.test("the cases: one per method, the relay last as the reference", () => {
  assertEquals(NAT_PATH_CASES.map((c) => c.accepts[0] ?? "relay"), [
    "host",
    "server-reflexive",
    "birthday",
    "port-mapped",
    "relay",
  ]);
  assertEquals(RELAY_REFERENCE, NAT_PATH_CASES.at(-1)!.label);
  // Birthday punching needs each side to know its mapping: two STUN servers there only.
  assertEquals(NAT_PATH_CASES.filter((c) => c.twoStun).map((c) => c.accepts[0]), ["birthday"]);
});

Deno.test("boundedRuns stops at the count", async () => {
  let calls = 0;
  const attempts = await boundedRuns(3, 60_000, () => Promise.resolve(run("host", ++calls)));
  assertEquals(calls, 3);
  assertEquals(attempts.length, 3);
});

Deno.test("boundedRuns starts no run once the budget is spent, and keeps errors", async () => {
  let clock = 0;
  let calls = 0;
  // Each run takes 40 s of a 100 s budget: the third starts at 80 s, no fourth at 120 s.
  const attempts = await boundedRuns(10, 100_000, () => {
    clock += 40_000;
    calls++;
    if (calls === 2) return Promise.reject(new Error("no direct path\nstderr: ..."));
    return Promise.resolve(run("birthday", 10));
  }, () => clock);
  assertEquals(calls, 3);
  assertEquals(attempts[1], { error: "no direct path" });
  assertEquals(attempts.filter((a) => "run" in a).length, 2);
});

Deno.test("boundedRuns with a budget already spent makes no run", async () => {
  let clock = 0;
  const attempts = await boundedRuns(3, 0, () => {
    clock += 1;
    return Promise.resolve(run("host", 1));
  }, () => clock);
  assertEquals(attempts, []);
});

Deno.test("natPathRows: medians of the runs on the row's method, against the relay row", () => {
  const rows = natPathRows("t", [
    {
      case: byLabel("birthday"),
      attempts: [
        { run: run("birthday", 100, 5000) },
        { run: run("birthday", 120, 4000) },
        { run: run("relay", 10, null) }, // the punch missed: left out of the figures
        { error: "Cannot wait for line: no matching line within 30000 ms" },
      ],
    },
    {
      case: byLabel("relay"),
      attempts: [{ run: run("relay", 20, null) }, { run: run("relay", 40, null) }],
    },
  ]);
  assertEquals(rows[0].values, {
    "to direct ms": 4500,
    "MB/s": 110,
    "vs relay": 110 / 30,
  });
  assertEquals(
    rows[0].note,
    "ended on: birthday x2, relay x1; to direct: 5,000 / 4,000 ms; MB/s: 100 / 120; " +
      "1 left out (not birthday); 1 failed: Cannot wait for line: no matching line within 30000 ms",
  );
  assertEquals(rows[1].values, {
    "to direct ms": null,
    "MB/s": 30,
    "vs relay": 1,
  });
});

Deno.test("natPathRows: a relay row that went direct is not a relay figure", () => {
  const rows = natPathRows("t", [{
    case: byLabel("relay"),
    attempts: [{ run: run("server-reflexive", 300, 900) }],
  }]);
  assertEquals(rows[0].values["MB/s"], null);
  assertEquals(rows[0].values["to direct ms"], null);
  assertEquals(rows[0].note, "ended on: server-reflexive x1; 1 left out (not relay)");
});

Deno.test("natPathRows: unavailable rows and rows without runs say why", () => {
  const rows = natPathRows("t", [
    { case: byLabel("port-mapped"), attempts: [], unavailable: "miniupnpd not installed" },
    { case: byLabel("host"), attempts: [] },
  ]);
  assertEquals(rows[0].note, "unavailable: miniupnpd not installed");
  assertEquals(rows[0].values, {
    "to direct ms": null,
    "MB/s": null,
    "vs relay": null,
  });
  assertEquals(rows[1].note, "no run within the time budget");
  assertEquals(rows[1].values["MB/s"], null);
});
