import assert from "node:assert/strict";
import { planInterface } from "./interface_plan.ts";

const base = { name: "tun0", address: { ip: "10.0.0.2", prefixLength: 24 }, mtu: 1420 };

Deno.test("planInterface() on Linux: address, MTU and up, then the extra routes", () => {
  const plan = planInterface({ ...base, os: "linux", routes: ["192.168.1.0/24", "172.16.0.0/12"] });
  assert.deepEqual(plan.setup, [
    ["ip", "addr", "add", "10.0.0.2/24", "dev", "tun0"],
    ["ip", "link", "set", "dev", "tun0", "mtu", "1420", "up"],
    ["ip", "route", "add", "192.168.1.0/24", "dev", "tun0"],
    ["ip", "route", "add", "172.16.0.0/12", "dev", "tun0"],
  ]);
  assert.deepEqual(plan.teardown, []);
});

Deno.test("planInterface() skips a route the address already gives", () => {
  const plan = planInterface({ ...base, os: "linux", routes: ["10.0.0.0/24"] });
  assert.equal(plan.setup.length, 2);
});

Deno.test("planInterface() on macOS: point-to-point address, routes added and removed", () => {
  const plan = planInterface({
    ...base,
    os: "darwin",
    name: "utun7",
    peer: "10.0.0.1",
    routes: ["192.168.1.0/24"],
  });
  assert.deepEqual(plan.setup, [
    [
      "ifconfig",
      "utun7",
      "inet",
      "10.0.0.2",
      "10.0.0.1",
      "netmask",
      "255.255.255.0",
      "mtu",
      "1420",
      "up",
    ],
    ["route", "-q", "-n", "add", "-inet", "10.0.0.0/24", "-interface", "utun7"],
    ["route", "-q", "-n", "add", "-inet", "192.168.1.0/24", "-interface", "utun7"],
  ]);
  assert.deepEqual(plan.teardown, [
    ["route", "-q", "-n", "delete", "-inet", "10.0.0.0/24", "-interface", "utun7"],
    ["route", "-q", "-n", "delete", "-inet", "192.168.1.0/24", "-interface", "utun7"],
  ]);
});

Deno.test("planInterface() on macOS without a peer points the address at itself", () => {
  const plan = planInterface({
    ...base,
    os: "darwin",
    address: { ip: "10.1.2.3", prefixLength: 20 },
  });
  assert.deepEqual(plan.setup[0].slice(2, 7), [
    "inet",
    "10.1.2.3",
    "10.1.2.3",
    "netmask",
    "255.255.240.0",
  ]);
  assert.deepEqual(plan.setup[1][5], "10.1.0.0/20");
});

Deno.test("planInterface() handles IPv6 addresses", () => {
  const address = { ip: "fd00::2", prefixLength: 64 };
  assert.deepEqual(planInterface({ ...base, os: "linux", address }).setup[0], [
    "ip",
    "addr",
    "add",
    "fd00::2/64",
    "dev",
    "tun0",
  ]);
  const mac = planInterface({ ...base, os: "darwin", address, routes: ["fd01::/48"] });
  assert.deepEqual(mac.setup[0], [
    "ifconfig",
    "tun0",
    "inet6",
    "fd00::2",
    "prefixlen",
    "64",
    "mtu",
    "1420",
    "up",
  ]);
  assert.deepEqual(mac.setup[1], [
    "route",
    "-q",
    "-n",
    "add",
    "-inet6",
    "fd00::/64",
    "-interface",
    "tun0",
  ]);
});

Deno.test("planInterface() rejects bad addresses, prefixes, MTUs, peers and routes", () => {
  const bad = [
    { address: { ip: "10.0.0.300", prefixLength: 24 } },
    { address: { ip: "10.0.0.2", prefixLength: 33 } },
    { address: { ip: "10.0.0.2", prefixLength: 1.5 } },
    { mtu: 100 },
    { mtu: 70_000 },
    { address: { ip: "fd00::2", prefixLength: 64 }, mtu: 1000 },
    { routes: ["10.1.0.1/16"] },
    { routes: ["nonsense"] },
    { os: "darwin" as const, peer: "fd00::1" },
  ];
  for (const change of bad) {
    assert.throws(
      () => planInterface({ ...base, os: "linux", ...change }),
      TypeError,
      JSON.stringify(change),
    );
  }
});
