import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { parseBenchArgs } from "./bench.ts";
import { SUITES } from "./suites.ts";

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

Deno.test("parseBenchArgs() reads --wan-cases and rejects an unknown case", () => {
  deepStrictEqual(parseBenchArgs(["--only", "wan", "--wan-cases", "rtt20,loss1"]), {
    runs: 3,
    durationSec: 4,
    help: false,
    only: ["wan"],
    wanCases: ["rtt20", "loss1"],
  });
  throws(() => parseBenchArgs(["--wan-cases", "rtt21"]), /unknown case rtt21/);
  throws(() => parseBenchArgs(["--wan-cases", ","]), /no case named/);
});

Deno.test("the wan suite is registered, so --only wan selects it", () => {
  ok(SUITES.some((suite) => suite.name === "wan"));
  deepStrictEqual(parseBenchArgs(["--only", "wan"]).only, ["wan"]);
});

Deno.test("the wan-udp and wan-vpn suites are registered, so --only selects them", () => {
  for (const name of ["wan-udp", "wan-vpn"]) {
    ok(SUITES.some((suite) => suite.name === name), name);
    deepStrictEqual(parseBenchArgs(["--only", name]).only, [name]);
  }
  const vpn = SUITES.find((suite) => suite.name === "wan-vpn")!;
  ok(/wireguard-go, tunnel vpn/.test(vpn.description), vpn.description);
});

Deno.test("the nat-paths suite is registered, so --only nat-paths selects it", () => {
  ok(SUITES.some((suite) => suite.name === "nat-paths"));
  deepStrictEqual(parseBenchArgs(["--only", "nat-paths"]).only, ["nat-paths"]);
});

Deno.test("the relay-records suite is registered, so --only selects it", () => {
  ok(SUITES.some((suite) => suite.name === "relay-records"));
  deepStrictEqual(parseBenchArgs(["--only", "relay-records"]).only, ["relay-records"]);
});
