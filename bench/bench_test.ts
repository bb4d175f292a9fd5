import { deepStrictEqual, throws } from "node:assert/strict";
import { parseBenchArgs } from "./bench.ts";

Deno.test("parseBenchArgs() reads every flag", () => {
  deepStrictEqual(
    parseBenchArgs(["--json", "out.json", "--runs", "2", "--duration", "3", "--only", "tcp-rtt"]),
    { runs: 2, durationSec: 3, help: false, json: "out.json", only: ["tcp-rtt"] },
  );
  deepStrictEqual(parseBenchArgs([]), { runs: 3, durationSec: 4, help: false });
});

Deno.test("parseBenchArgs() rejects unknown flags, bad counts and unknown suites", () => {
  throws(() => parseBenchArgs(["--fast"]), TypeError);
  throws(() => parseBenchArgs(["--runs", "0"]), TypeError);
  throws(() => parseBenchArgs(["--duration"]), TypeError);
  throws(() => parseBenchArgs(["--only", "nope"]), TypeError);
});
