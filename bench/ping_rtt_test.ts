import { deepStrictEqual } from "node:assert/strict";
import { parsePingTimes } from "./ping_rtt.ts";

Deno.test("parsePingTimes() reads each reply's time in µs and skips other lines", () => {
  const output = [
    "PING 10.77.0.2 (10.77.0.2) 56(84) bytes of data.",
    "64 bytes from 10.77.0.2: icmp_seq=1 ttl=64 time=1.71 ms",
    "From 10.77.0.1 icmp_seq=2 Destination Host Unreachable",
    "64 bytes from 10.77.0.2: icmp_seq=3 ttl=64 time=0.045 ms",
    "64 bytes from 10.77.0.2: icmp_seq=4 ttl=64 time=12 ms (DUP!)",
    "",
    "--- 10.77.0.2 ping statistics ---",
    "rtt min/avg/max/mdev = 0.045/0.877/1.710/0.832 ms",
  ].join("\n");
  deepStrictEqual(parsePingTimes(output).map(Math.round), [1710, 45]);
  deepStrictEqual(parsePingTimes(""), []);
  deepStrictEqual(parsePingTimes("64 bytes from x: time= ms"), []);
});
