import assert from "node:assert/strict";
import {
  type ForwardingFacts,
  planForwarding,
  planForwardingRestore,
  taggedRules,
} from "./forwarding_plan.ts";

const options = { network: "10.0.0.0/24", tunName: "tun0", pid: 42 };
const facts = (change: Partial<ForwardingFacts> = {}): ForwardingFacts => ({
  ipForward: "0",
  filterRules: "-P FORWARD ACCEPT\n",
  natRules: "-P POSTROUTING ACCEPT\n",
  isAlive: () => false,
  ...change,
});
const TAG = "tunnel-vpn:pid=42:ip_forward=0";

Deno.test("planForwarding() masquerades the VPN network out of every interface but the device", () => {
  const plan = planForwarding(options, facts());
  assert.equal(plan.ipForward, "1");
  assert.deepEqual(plan.setup, [[
    "iptables",
    "-w",
    "-t",
    "nat",
    "-A",
    "POSTROUTING",
    "-s",
    "10.0.0.0/24",
    "!",
    "-o",
    "tun0",
    "-m",
    "comment",
    "--comment",
    TAG,
    "-j",
    "MASQUERADE",
  ]]);
  assert.deepEqual(plan.teardown, [[
    "iptables",
    "-w",
    "-t",
    "nat",
    "-D",
    "POSTROUTING",
    "-s",
    "10.0.0.0/24",
    "!",
    "-o",
    "tun0",
    "-m",
    "comment",
    "--comment",
    TAG,
    "-j",
    "MASQUERADE",
  ]]);
  assert.deepEqual(plan.stale, []);
});

Deno.test("planForwarding() masquerades out of a named interface and leaves ip_forward when on", () => {
  const plan = planForwarding({ ...options, outInterface: "eth1" }, facts({ ipForward: "1" }));
  assert.equal(plan.ipForward, undefined);
  assert.equal(plan.original, "1");
  assert.deepEqual(plan.setup[0].slice(6, 10), ["-s", "10.0.0.0/24", "-o", "eth1"]);
});

Deno.test("planForwarding() inserts accept rules first when the FORWARD policy drops, deletes them in reverse", () => {
  const plan = planForwarding(
    options,
    facts({ filterRules: "-P FORWARD DROP\n-A FORWARD -j DROP\n" }),
  );
  assert.equal(plan.setup.length, 3);
  // Into other interfaces only: client-to-client (tun0 to tun0) stays the host's FORWARD rules' call.
  assert.deepEqual(plan.setup[1].slice(0, 13), [
    "iptables",
    "-w",
    "-t",
    "filter",
    "-I",
    "FORWARD",
    "-i",
    "tun0",
    "!",
    "-o",
    "tun0",
    "-s",
    "10.0.0.0/24",
  ]);
  assert.ok(
    plan.setup[2].join(" ").includes(
      "-o tun0 -d 10.0.0.0/24 -m conntrack --ctstate RELATED,ESTABLISHED",
    ),
  );
  assert.deepEqual(plan.teardown.map((argv) => argv[4]), ["-D", "-D", "-D"]);
  assert.deepEqual(
    plan.teardown.map((argv) => argv.slice(6)),
    plan.setup.map((argv) => argv.slice(6)).reverse(),
  );
});

Deno.test("planForwarding() deletes a dead run's rules and inherits the ip_forward it recorded", () => {
  const filterRules =
    '-P FORWARD DROP\n-A FORWARD -i tun3 -m comment --comment "tunnel-vpn:pid=7:ip_forward=0" -j ACCEPT\n';
  const plan = planForwarding(options, facts({ ipForward: "1", filterRules }));
  assert.deepEqual(plan.stale, [[
    "iptables",
    "-w",
    "-t",
    "filter",
    "-D",
    "FORWARD",
    "-i",
    "tun3",
    "-m",
    "comment",
    "--comment",
    "tunnel-vpn:pid=7:ip_forward=0",
    "-j",
    "ACCEPT",
  ]]);
  assert.equal(plan.original, "0");
  assert.ok(plan.setup[0].includes(TAG));
});

Deno.test("planForwarding() keeps a live run's rules and shares its original value", () => {
  const natRules =
    '-A POSTROUTING -s 10.9.0.0/24 ! -o tun1 -m comment --comment "tunnel-vpn:pid=8:ip_forward=0" -j MASQUERADE';
  const plan = planForwarding(
    options,
    facts({ ipForward: "1", natRules, isAlive: (pid) => pid === 8 }),
  );
  assert.deepEqual(plan.stale, []);
  assert.equal(plan.original, "0");
});

Deno.test("planForwardingRestore() restores only when no other live run needs forwarding", () => {
  const natRules =
    '-A POSTROUTING -s 10.9.0.0/24 -m comment --comment "tunnel-vpn:pid=8:ip_forward=0" -j MASQUERADE';
  assert.equal(planForwardingRestore("0", facts({ ipForward: "1" }), 42), "0");
  assert.equal(
    planForwardingRestore("0", facts({ ipForward: "1", natRules, isAlive: () => true }), 42),
    undefined,
  );
  assert.equal(planForwardingRestore("1", facts({ ipForward: "1" }), 42), undefined);
  // Its own rules (still listed while it runs) do not count as another run.
  const own = natRules.replace("pid=8", "pid=42");
  assert.equal(
    planForwardingRestore("0", facts({ ipForward: "1", natRules: own, isAlive: () => true }), 42),
    "0",
  );
});

Deno.test("planForwarding() rejects IPv6 networks and bad interface names", () => {
  assert.throws(() => planForwarding({ ...options, network: "fd00::/64" }, facts()), /IPv4 only/);
  assert.throws(() => planForwarding({ ...options, network: "10.0.0.1/24" }, facts()), TypeError);
  assert.throws(() => planForwarding({ ...options, outInterface: "a b" }, facts()), TypeError);
});

Deno.test("taggedRules() ignores foreign, malformed and look-alike rules and never throws on perturbed lines", () => {
  const good = '-A FORWARD -i tun0 -m comment --comment "tunnel-vpn:pid=7:ip_forward=1" -j ACCEPT';
  const text = [
    good,
    '-A FORWARD -m comment --comment "other" -j ACCEPT',
    '-A FORWARD -m comment --comment "tunnel-vpn:pid=x:ip_forward=1" -j ACCEPT',
    '-A FORWARD -m comment --comment "tunnel-vpn:pid=7:ip_forward=1 -j ACCEPT',
  ].join("\n");
  assert.equal(taggedRules(text, "filter").length, 1);
  for (let cut = 0; cut < good.length; cut++) {
    const rules = taggedRules(good.slice(0, cut), "filter");
    assert.ok(rules.length <= 1);
  }
  const bytes = new TextEncoder().encode(good);
  for (let i = 0; i < bytes.length * 8; i += 3) {
    const flipped = bytes.slice();
    flipped[i >> 3] ^= 1 << (i & 7);
    for (const rule of taggedRules(new TextDecoder().decode(flipped), "nat")) {
      assert.ok(rule.pid >= 0);
    }
  }
  assert.throws(() => taggedRules("x".repeat(5 * 1024 * 1024), "nat"), RangeError);
});
