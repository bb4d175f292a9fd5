// The VPN suite's hook, with stand-in VPNs: one that is the veth itself (so it must
// measure like "veth direct"), one whose start fails, one that never carries a packet.
import assert from "node:assert/strict";
import { canBuildBeds } from "../tests/netns/mod.ts";
import { BenchEnvironment } from "./bench_environment.ts";
import { vpnSuite, type VpnUnderTest } from "./vpn_suite.ts";

// Needs root and -A: `deno task test:netns` runs it; `deno task test` skips it.
const support = await canBuildBeds({ stun: false });
if (!support.ok) console.log(`skipping the VPN suite test: ${support.reason}`);

Deno.test({
  name: "vpnSuite() measures each started VPN, stops it, and marks failed ones unavailable",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const calls: string[] = [];
    const networks: string[] = [];
    const viaVeth: VpnUnderTest = {
      path: "veth again",
      start({ pair, network }) {
        networks.push(network);
        calls.push(`start ${pair.left.ns}`);
        return Promise.resolve({
          leftIp: pair.left.ip,
          rightIp: pair.right.ip,
          stop: () => Promise.resolve(void calls.push("stop veth again")),
        });
      },
    };
    const broken: VpnUnderTest = {
      path: "broken",
      start: () => Promise.reject(new Error("Cannot start broken: on purpose\nsecond line")),
    };
    const silent: VpnUnderTest = {
      path: "silent",
      start({ network }) {
        networks.push(network);
        // An address nobody has: the suite's readiness ping must give up, then stop it.
        return Promise.resolve({
          leftIp: "10.77.3.2",
          rightIp: "10.77.3.1",
          stop: () => Promise.resolve(void calls.push("stop silent")),
        });
      },
    };
    await using env = new BenchEnvironment();
    const suite = vpnSuite([viaVeth, broken, silent], { readyTimeoutMs: 1_000 });
    const rows = await suite.run(env, { runs: 1, durationSec: 1 });
    assert.deepEqual(rows.map((row) => row.path), [
      "veth direct",
      "veth again",
      "broken",
      "silent",
    ]);
    assert.deepEqual(networks, ["10.77.1.0/24", "10.77.3.0/24"], "one /24 per VPN, by position");
    const [veth, again] = rows;
    for (const row of [veth, again]) {
      assert.ok(row.values["MB/s"]! > 0, `${row.path}: ${JSON.stringify(row)}`);
      assert.ok(row.values["ping median µs"]! > 0, `${row.path}: ${JSON.stringify(row)}`);
    }
    assert.equal(typeof again.values["added µs"], "number");
    assert.equal(rows[2].note, "unavailable: Cannot start broken: on purpose");
    assert.match(rows[3].note!, /^unavailable: no ping reply through 10\.77\.3\.1 within 1000 ms$/);
    assert.ok(calls.includes("stop veth again") && calls.includes("stop silent"), `${calls}`);
  },
});
