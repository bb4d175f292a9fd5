/**
 * Host forwarding (`enableHostForwarding`) in three namespaces: a VPN client (A), the server (B)
 * and a LAN host behind the server (C), which has no route back to the VPN network. A veth
 * named like a TUN device stands in for the tunnel between A and B: the point is B's setup and
 * teardown. Run: `deno test -A --unstable-net tests/netns/host_forwarding_test.ts`.
 * @module
 */
import assert from "node:assert/strict";
import { findTool, mustRun, run } from "./command.ts";
import { addNamespace, newBedPrefix, removeNamespaces, sweepStaleBeds } from "./namespaces.ts";

const PEER = new URL("./_forwarding_peer.ts", import.meta.url).pathname;
// The narrow set host forwarding documents.
const FLAGS = ["--allow-run=iptables,sysctl", "--allow-read=/proc"];
const ip = findTool("ip")!;
const support = Deno.build.os === "linux" && Deno.uid() === 0 && ip !== undefined &&
  findTool("iptables") !== undefined;
if (!support) {
  console.log("skipping host forwarding tests: needs Linux, root, iproute2 and iptables");
}

interface Hosts {
  a: string;
  b: string;
  c: string;
}

async function withHosts(fn: (hosts: Hosts) => Promise<void>): Promise<void> {
  await sweepStaleBeds();
  const prefix = newBedPrefix();
  const hosts = { a: `${prefix}-vpnc`, b: `${prefix}-vpns`, c: `${prefix}-lan` };
  try {
    for (const ns of Object.values(hosts)) await addNamespace(ns);
    const steps = [
      [
        "link",
        "add",
        "vpn0",
        "netns",
        hosts.a,
        "type",
        "veth",
        "peer",
        "name",
        "vpn0",
        "netns",
        hosts.b,
      ],
      [
        "link",
        "add",
        "lan0",
        "netns",
        hosts.b,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        hosts.c,
      ],
      ["-n", hosts.a, "addr", "add", "10.0.0.2/24", "dev", "vpn0"],
      ["-n", hosts.a, "link", "set", "vpn0", "up"],
      // The client's --route for the LAN behind the server.
      ["-n", hosts.a, "route", "add", "192.168.50.0/24", "via", "10.0.0.1"],
      ["-n", hosts.b, "addr", "add", "10.0.0.1/24", "dev", "vpn0"],
      ["-n", hosts.b, "link", "set", "vpn0", "up"],
      ["-n", hosts.b, "addr", "add", "192.168.50.1/24", "dev", "lan0"],
      ["-n", hosts.b, "link", "set", "lan0", "up"],
      ["-n", hosts.c, "addr", "add", "192.168.50.2/24", "dev", "eth0"],
      ["-n", hosts.c, "link", "set", "eth0", "up"],
    ];
    for (const step of steps) await mustRun([ip, ...step]);
    // A host that drops forwarded traffic unless told otherwise (Docker hosts look like this).
    await inB(hosts, ["iptables", "-w", "-P", "FORWARD", "DROP"]);
    await inB(hosts, ["sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    await fn(hosts);
  } finally {
    await removeNamespaces(Object.values(hosts));
  }
}

function inB(hosts: Hosts, cmd: string[]): Promise<string> {
  return mustRun([ip, "netns", "exec", hosts.b, ...cmd]);
}

/** Everything host forwarding may touch in B. */
async function serverState(hosts: Hosts): Promise<string> {
  return [
    await inB(hosts, ["iptables", "-w", "-S"]),
    await inB(hosts, ["iptables", "-w", "-t", "nat", "-S"]),
    await inB(hosts, ["sysctl", "net.ipv4.ip_forward"]),
  ].join("");
}

async function lanReachable(hosts: Hosts): Promise<boolean> {
  const ping = await run([
    ip,
    "netns",
    "exec",
    hosts.a,
    "ping",
    "-c",
    "2",
    "-i",
    "0.2",
    "-W",
    "1",
    "192.168.50.2",
  ]);
  return ping.code === 0;
}

function startServer(hosts: Hosts, args: string[]) {
  const child = new Deno.Command(ip, {
    args: ["netns", "exec", hosts.b, Deno.execPath(), "run", ...FLAGS, PEER, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const readUntil = async (pattern: RegExp) => {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    return text;
  };
  return { child, readUntil };
}

Deno.test({
  name:
    "enableHostForwarding(): the LAN host answers the client, and SIGTERM leaves the server as it was",
  ignore: !support,
  fn: () =>
    withHosts(async (hosts) => {
      const before = await serverState(hosts);
      assert.equal(
        await lanReachable(hosts),
        false,
        "reachable without forwarding: the test proves nothing",
      );
      const server = startServer(hosts, ["10.0.0.0/24", "vpn0", "lan0"]);
      assert.match(await server.readUntil(/ready|\n/), /ready/);
      assert.equal(await inB(hosts, ["sysctl", "-n", "net.ipv4.ip_forward"]), "1\n");
      assert.match(
        await inB(hosts, ["iptables", "-w", "-t", "nat", "-S"]),
        /-o lan0 .*tunnel-vpn:pid=\d+:ip_forward=0.* -j MASQUERADE/,
      );
      assert.equal(await lanReachable(hosts), true);
      server.child.kill("SIGTERM");
      assert.match(await server.readUntil(/closed/), /closed after SIGTERM/);
      await server.child.status;
      await server.child.stderr.cancel();
      assert.equal(await serverState(hosts), before);
      assert.equal(await lanReachable(hosts), false);
    }),
});

Deno.test({
  name:
    "enableHostForwarding(): the next run removes a SIGKILLed run's rules and restores ip_forward on exit",
  ignore: !support,
  fn: () =>
    withHosts(async (hosts) => {
      const before = await serverState(hosts);
      const crashed = startServer(hosts, ["10.0.0.0/24", "vpn0"]);
      assert.match(await crashed.readUntil(/ready|\n/), /ready/);
      crashed.child.kill("SIGKILL");
      await crashed.child.status;
      await crashed.child.stderr.cancel();
      const leftovers = await serverState(hosts);
      assert.match(leftovers, /tunnel-vpn:pid=/);
      assert.match(leftovers, /ip_forward = 1/);
      // Masquerading out of every interface but the device.
      assert.match(leftovers, /! -o vpn0/);

      const next = startServer(hosts, ["10.0.0.0/24", "vpn0"]);
      assert.match(await next.readUntil(/ready|\n/), /ready/);
      const during = await inB(hosts, ["iptables", "-w", "-S"]) +
        await inB(hosts, ["iptables", "-w", "-t", "nat", "-S"]);
      const pids = new Set([...during.matchAll(/tunnel-vpn:pid=(\d+)/g)].map((m) => m[1]));
      assert.equal(pids.size, 1, `rules of more than one run: ${[...pids]}`);
      assert.notEqual([...pids][0], String(crashed.child.pid));
      assert.equal(await lanReachable(hosts), true);
      next.child.kill("SIGINT");
      assert.match(await next.readUntil(/closed/), /closed after SIGINT/);
      await next.child.status;
      await next.child.stderr.cancel();
      assert.equal(await serverState(hosts), before);
    }),
});
