/**
 * `tunnel vpn server` and `tunnel vpn client` between network namespaces: traffic both
 * ways (ping, iperf3, a checksummed 50 MB transfer), addressing (two clients, a pool of
 * one), the server host's firewall (client to client through FORWARD, the host addresses a
 * client reaches and the INPUT rule that limits them), a SIGKILLed client restarted, clean
 * exits, reconnecting to a restarted server, the status view, the NAT bed through a relay,
 * and `--masquerade` to a LAN behind the server. Each test builds its own namespaces and
 * deletes them.
 */
import assert from "node:assert/strict";
import { runIperf3 } from "../../bench/iperf3.ts";
import { generateToken } from "../../core/auth/mod.ts";
import { PROJECT_CONFIG, runCommand, TUNNEL_MAIN, tunnelCommandArgs } from "../harness/mod.ts";
import { runInNamespace } from "./command.ts";
import { canBuildBeds, createBed, createVethPair, sweepStaleBeds, type VethPair } from "./mod.ts";
import {
  BED_PKARR_URL,
  BED_RELAY_URL,
  inNamespace,
  startBedEcho,
  startBedRelay,
  transferInBed,
} from "./tunnels_in_bed.ts";
import {
  addVethHost,
  exitWithin,
  type InNamespace,
  routes,
  spawnVpn,
  startVpnClient,
  startVpnServer,
  tunDevices,
  type VpnServerProcess,
  waitForPing,
} from "./vpn_processes.ts";

const support = await canBuildBeds({ stun: false });
if (!support.ok) console.log(`skipping VPN namespace tests: ${support.reason}`);
else await sweepStaleBeds();

const SERVER_PORT = 7000;
// Direct paths only: nothing in a veth pair answers relays, pkarr or STUN.
const OFFLINE = ["--no-relay", "--no-dns", "--no-stun"];
const TRANSFER_BYTES = 50_000_000;
const IPERF_SECONDS = 3;
const IPERF_PORT = 5201;
// A relay path is slower than the veth; 10 MB still crosses many congestion windows.
const RELAY_TRANSFER_BYTES = 10_000_000;

/** A Deno.test over a fresh veth pair (server right, client left) and a scratch dir. */
function vpnTest(
  name: string,
  fn: (pair: VethPair, scratch: string) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: !support.ok,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const pair = await createVethPair();
      const scratch = await Deno.makeTempDir({ prefix: "tunnel-vpn-test-" });
      try {
        await fn(pair, scratch);
      } finally {
        await pair.close();
        await Deno.remove(scratch, { recursive: true });
      }
    },
  });
}

/** The server in `pair.right` on 192.0.2.2:7000, direct only. */
function serverIn(
  pair: VethPair,
  token: string,
  extra: string[] = [],
  readPaths: string[] = [],
): Promise<VpnServerProcess> {
  return startVpnServer(pair.right, [
    "--bind",
    `0.0.0.0:${SERVER_PORT}`,
    "--auth-tokens",
    token,
    ...OFFLINE,
    ...extra,
  ], { readPaths });
}

/** Writes a server key in `scratch` with `generate-server-key`: its file and EndpointId. */
async function serverKey(scratch: string): Promise<{ secretFile: string; id: string }> {
  const secretFile = `${scratch}/server.key`;
  const made = await runCommand(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      PROJECT_CONFIG,
      TUNNEL_MAIN,
      "generate-server-key",
      "--output",
      secretFile,
    ],
    timeoutMs: 20_000,
  });
  assert.equal(made.code, 0, made.stderr);
  const id = /EndpointId: (\S+)/.exec(made.stdout + made.stderr)?.[1];
  assert.ok(id, made.stdout + made.stderr);
  return { secretFile, id };
}

/** Client flags reaching `server` at `addr` directly. */
function direct(token: string, addr: string): string[] {
  return ["--server-addr", `${addr}:${SERVER_PORT}`, "--auth-token", token, ...OFFLINE];
}

vpnTest("vpn: direct, ping both ways, iperf3 TCP and a checksummed 50 MB transfer", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const server = await serverIn(pair, token);
  await using _server = server.proc;
  const { id, address: serverIp } = server;
  // Started with --no-relay --no-dns on every interface: the line it prints reaches it.
  assert.ok(
    server.proc.lines("stdout").includes(
      `Clients connect with: tunnel vpn client --server-node-id ${id} --no-dns --server-addr ${pair.right.ip}:${SERVER_PORT} --auth-token <TOKEN>`,
    ),
    server.proc.lines("stdout").join("\n"),
  );
  const client = await startVpnClient(pair.left, id, direct(token, pair.right.ip), {
    lockFile: `${scratch}/client.lock`,
  });
  await using _client = client.proc;
  assert.equal(client.address, "10.0.0.2");
  assert.ok(
    client.proc.lines("stdout").includes(
      `Connected to server ${id} at ${pair.right.ip}:${SERVER_PORT}`,
    ),
    client.proc.lines("stdout").join("\n"),
  );
  await waitForPing(pair.left, serverIp);
  await waitForPing(pair.right, client.address);

  const iperf = await runIperf3({
    serverPort: IPERF_PORT,
    clientPort: IPERF_PORT,
    durationSec: IPERF_SECONDS,
    hostname: serverIp,
    namespaces: { server: pair.right.ns, client: pair.left.ns },
  });
  assert.ok(iperf.mbPerSec > 0, `iperf3 measured ${iperf.mbPerSec} MB/s`);

  const echo = await startBedEcho(pair.right, { hostname: serverIp });
  await using _echo = echo.proc;
  const ms = await transferInBed(pair.left, echo.port, TRANSFER_BYTES, { hostname: serverIp });
  console.log(
    `RESULT | vpn direct | iperf3 TCP client->server ${iperf.mbPerSec.toFixed(1)} MB/s | ` +
      `50 MB echoed in ${ms.toFixed(0)} ms`,
  );
});

vpnTest(
  "vpn: two clients reach each other only through the server host's forwarding and FORWARD chain",
  async (
    pair,
    scratch,
  ) => {
    const token = generateToken();
    // A second client host behind the server's second veth: 192.0.3.2 -> 192.0.3.1.
    const hostB = await addVethHost(pair.right, {
      role: "clb",
      subnet: "192.0.3",
      peerDevice: "eth1",
    });
    try {
      // A fresh namespace starts with net.ipv4.ip_forward=0, as most hosts do.
      assert.equal(await sysctlValue(pair.right, "net.ipv4.ip_forward"), "0");
      const server = await serverIn(pair, token);
      await using _server = server.proc;
      const tun = server.device;
      assert.ok(
        server.proc.lines("stdout").some((line) =>
          line.startsWith(`Client to client: blocked, IP forwarding is off for ${tun}`)
        ),
        server.proc.lines("stdout").join("\n"),
      );
      const a = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
        lockFile: `${scratch}/a.lock`,
      });
      await using _a = a.proc;
      const b = await startVpnClient(hostB, server.id, direct(token, hostB.peerIp), {
        lockFile: `${scratch}/b.lock`,
      });
      await using _b = b.proc;
      assert.deepEqual([a.address, b.address].sort(), ["10.0.0.2", "10.0.0.3"]);
      await waitForPing(pair.left, server.address);
      await waitForPing(hostB, server.address);

      // Forwarding off: the kernel drops what A sends B (the server no longer passes it itself).
      const offBlocks = !await pings(pair.left, b.address);
      assert.ok(offBlocks, "ip_forward=0 blocks client to client");

      // Forwarding on: the kernel forwards tun -> tun, through FORWARD (a rule without a target counts).
      await runInNs(pair.right, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
      const counting = ["-i", tun, "-o", tun, "-p", "icmp"];
      await runInNs(pair.right, ["iptables", "-w", "5", "-A", "FORWARD", ...counting]);
      await waitForPing(pair.left, b.address);
      await waitForPing(hostB, a.address);
      const counted = await forwardCounter(pair.right, counting);
      assert.ok(counted >= 2, `FORWARD counted ${counted} client-to-client packets`);

      // SECURITY.md's rule: clients may not reach each other.
      const drop = ["-i", tun, "-o", tun, "-j", "DROP"];
      await runInNs(pair.right, ["iptables", "-w", "5", "-I", "FORWARD", ...drop]);
      assert.equal(await pings(pair.left, b.address), false, "the DROP rule blocks A -> B");
      assert.equal(await pings(hostB, a.address), false, "the DROP rule blocks B -> A");
      assert.ok(await forwardCounter(pair.right, drop) >= 2, "the DROP rule's counter moved");
      // Both still reach the server itself (INPUT, not FORWARD).
      assert.equal(await pings(pair.left, server.address), true);
      assert.equal(await pings(hostB, server.address), true);

      await runInNs(pair.right, ["iptables", "-w", "5", "-D", "FORWARD", ...drop]);
      await waitForPing(pair.left, b.address);
    } finally {
      await hostB.close();
    }
  },
);

vpnTest(
  "vpn: without --masquerade a client reaches the server host's own addresses, until an INPUT rule says no",
  async (
    pair,
    scratch,
  ) => {
    const token = generateToken();
    // The server host's LAN: it is 192.0.3.1 on lan0, a LAN host is 192.0.3.2.
    const lan = await addVethHost(pair.right, {
      role: "lan",
      subnet: "192.0.3",
      peerDevice: "lan0",
    });
    try {
      const server = await serverIn(pair, token);
      await using _server = server.proc;
      const client = await startVpnClient(pair.left, server.id, [
        ...direct(token, pair.right.ip),
        "--route",
        lan.subnet,
      ], { lockFile: `${scratch}/client.lock` });
      await using _client = client.proc;
      await waitForPing(pair.left, server.address);
      // A client owns its routing: send pings for the server's other addresses into the VPN too.
      // 192.0.2.2 is also the address the tunnel runs to, so only ICMP to it takes the VPN; the
      // local table (rule 0) is moved behind the rule for 127.0.0.1, which would stay local.
      await runInNs(pair.left, [
        "ip",
        "route",
        "add",
        "192.0.2.2/32",
        "dev",
        client.device,
        "table",
        "100",
      ]);
      await runInNs(pair.left, [
        "ip",
        "route",
        "add",
        "127.0.0.1/32",
        "dev",
        client.device,
        "table",
        "100",
      ]);
      await runInNs(pair.left, [
        "ip",
        "rule",
        "add",
        "pref",
        "5",
        "to",
        "192.0.2.2",
        "ipproto",
        "icmp",
        "lookup",
        "100",
      ]);
      await runInNs(pair.left, [
        "ip",
        "rule",
        "add",
        "pref",
        "6",
        "to",
        "127.0.0.1",
        "ipproto",
        "icmp",
        "lookup",
        "100",
      ]);
      await runInNs(pair.left, ["ip", "rule", "add", "pref", "10", "lookup", "local"]);
      await runInNs(pair.left, ["ip", "rule", "del", "pref", "0"]);
      // Counts what reaches the server's device for loopback, before routing can call it martian.
      const toLoopback = ["-i", server.device, "-d", "127.0.0.1/32", "-p", "icmp"];
      await runInNs(pair.right, [
        "iptables",
        "-w",
        "5",
        "-t",
        "raw",
        "-A",
        "PREROUTING",
        ...toLoopback,
      ]);

      const reached = async () => ({
        vpn: await pings(pair.left, server.address),
        eth0: await pings(pair.left, pair.right.ip),
        lan0: await pings(pair.left, lan.peerIp),
        lanHost: await pings(pair.left, lan.ip),
        loopback: await pings(pair.left, "127.0.0.1"),
      });
      // ip_forward is 0: every address of the server host answers; the LAN host and loopback do not.
      assert.deepEqual(await reached(), {
        vpn: true,
        eth0: true,
        lan0: true,
        lanHost: false,
        loopback: false,
      });
      const arrived = await ruleCounter(pair.right, "raw", "PREROUTING", toLoopback);
      assert.ok(arrived >= 2, `${arrived} pings for 127.0.0.1 reached the server (then dropped)`);

      // SECURITY.md's rule: clients reach the server's VPN address only.
      const onlyVpn = ["-i", server.device, "!", "-d", `${server.address}/32`, "-j", "DROP"];
      await runInNs(pair.right, ["iptables", "-w", "5", "-A", "INPUT", ...onlyVpn]);
      assert.deepEqual(await reached(), {
        vpn: true,
        eth0: false,
        lan0: false,
        lanHost: false,
        loopback: false,
      });
      assert.ok(await ruleCounter(pair.right, "filter", "INPUT", onlyVpn) >= 4);
    } finally {
      await lan.close();
    }
  },
);

vpnTest("vpn: a pool of one refuses the second client in one line; the first keeps working", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const server = await serverIn(pair, token, ["--network", "10.9.0.0/30"]);
  await using _server = server.proc;
  const first = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
    lockFile: `${scratch}/first.lock`,
  });
  await using _first = first.proc;
  assert.equal(first.address, "10.9.0.2");
  await waitForPing(pair.left, server.address);

  const second = spawnVpn(pair.left, [
    "client",
    "-n",
    server.id,
    "--lock-file",
    `${scratch}/second.lock`,
    ...direct(token, pair.right.ip),
  ]);
  const status = await exitWithin(second, 20_000);
  const errors = second.lines("stderr").filter((line) => line.trim() !== "");
  assert.equal(status.code, 1, errors.join("\n"));
  assert.equal(errors.length, 1, errors.join("\n"));
  assert.match(
    errors[0],
    /^Error: Server refused the VPN client: VPN address pool 10\.9\.0\.0\/30 is exhausted \(1 client address, all in use\)/,
  );
  assert.deepEqual(
    await tunDevices(pair.left),
    [first.device],
    "the refused client made no device",
  );
  assert.equal(first.proc.exitStatus, undefined, "the first client kept running");
  await waitForPing(pair.left, server.address);
  await waitForPing(pair.right, first.address);
});

vpnTest("vpn: a client killed with SIGKILL leaves no device; restarted, it works again", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const server = await serverIn(pair, token);
  await using _server = server.proc;
  const lockFile = `${scratch}/client.lock`;
  const killed = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
    lockFile,
  });
  await waitForPing(pair.left, server.address);
  await killed.proc.stop({ signal: "SIGKILL" });
  // The kernel removes a TUN device (and its routes) when its last descriptor closes.
  assert.deepEqual(await tunDevices(pair.left), []);
  assert.ok(await exists(lockFile), "SIGKILL left the lock file (stale) behind");

  const again = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
    lockFile,
  });
  await using _again = again.proc;
  await waitForPing(pair.left, server.address);
  await waitForPing(pair.right, again.address);
  assert.deepEqual(await tunDevices(pair.left), [again.device]);
});

vpnTest("vpn: SIGINT and SIGTERM leave no device, route or lock file behind", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const before = { left: await routes(pair.left), right: await routes(pair.right) };
  const server = await serverIn(pair, token);
  await using _server = server.proc;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const lockFile = `${scratch}/${signal}.lock`;
    const client = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
      lockFile,
    });
    await waitForPing(pair.left, server.address);
    assert.ok(await exists(lockFile));
    const status = await client.proc.stop({ signal });
    assert.equal(status.code, 0, `client after ${signal}: ${client.proc.stderrText()}`);
    assert.deepEqual(await tunDevices(pair.left), [], `client after ${signal}`);
    assert.deepEqual(await routes(pair.left), before.left, `client after ${signal}`);
    assert.equal(await exists(lockFile), false, `lock file after ${signal}`);
  }
  const status = await server.proc.stop({ signal: "SIGTERM" });
  assert.equal(status.code, 0, `server after SIGTERM: ${server.proc.stderrText()}`);
  assert.deepEqual(await tunDevices(pair.right), []);
  assert.deepEqual(await routes(pair.right), before.right);
});

vpnTest("vpn: the client reconnects to a restarted server, keeping its device and address", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const { secretFile } = await serverKey(scratch);
  const withSecret = ["--secret-file", secretFile];
  const server = await serverIn(pair, token, withSecret, [secretFile]);
  const client = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
    lockFile: `${scratch}/client.lock`,
  });
  await using _client = client.proc;
  await waitForPing(pair.left, server.address);

  const stopped = await server.proc.stop({ signal: "SIGINT" });
  assert.equal(stopped.code, 0, server.proc.stderrText());
  assert.deepEqual(await tunDevices(pair.right), [], "the server's device went with it");
  await client.proc.waitForLine(/Connection to the server lost: .*; reconnecting$/, {
    timeoutMs: 10_000,
  });
  const restarted = await serverIn(pair, token, withSecret, [secretFile]);
  await using _restarted = restarted.proc;
  assert.equal(restarted.id, server.id, "same --secret-file, same EndpointId");
  await client.proc.waitForLine(
    new RegExp(`^Reconnected to server ${server.id} at ${pair.right.ip}:${SERVER_PORT} after `),
    { stream: "stdout", timeoutMs: 30_000 },
  );
  await client.proc.waitForLine(`VPN address ${client.address}/24 kept on ${client.device}`, {
    stream: "stdout",
    timeoutMs: 5_000,
  });
  await waitForPing(pair.left, restarted.address);
  await waitForPing(pair.right, client.address);
  assert.deepEqual(await tunDevices(pair.left), [client.device]);
  const ready = client.proc.lines("stdout").filter((line) => line.startsWith("VPN ready:"));
  assert.equal(ready.length, 1, "the device was made once");
  assert.equal(client.proc.exitStatus, undefined);
});

vpnTest("vpn: a client started before its server keeps trying and connects once it is up", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const { secretFile, id } = await serverKey(scratch);
  // The client first: its first attempt finds nobody at the address and gives up
  // after CONNECT_TIMEOUT_MS (10 s); the server comes after that.
  const starting = startVpnClient(pair.left, id, direct(token, pair.right.ip), {
    lockFile: `${scratch}/client.lock`,
    timeoutMs: 45_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 11_500));
  const server = await serverIn(pair, token, ["--secret-file", secretFile], [secretFile]);
  await using _server = server.proc;
  const client = await starting;
  await using _client = client.proc;
  const said = [...client.proc.lines("stdout"), ...client.proc.lines("stderr")];
  const notYet = said.filter((line) => / yet: .*retrying/.test(line));
  assert.equal(notYet.length, 1, said.join("\n"));
  await waitForPing(pair.left, server.address);
});

vpnTest("vpn: tunnel status lists the VPN client with its address and bytes", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  const serverStatus = "127.0.0.1:7070";
  const clientStatus = "127.0.0.1:7071";
  const server = await serverIn(pair, token, ["--status", serverStatus]);
  await using _server = server.proc;
  const client = await startVpnClient(pair.left, server.id, [
    ...direct(token, pair.right.ip),
    "--status",
    clientStatus,
  ], { lockFile: `${scratch}/client.lock` });
  await using _client = client.proc;
  await waitForPing(pair.left, server.address);
  await runInNs(pair.left, ["ping", "-n", "-c", "3", "-i", "0.2", server.address]);

  const onServer = await statusOf(pair.right, serverStatus);
  assert.equal(onServer.role, "server");
  assert.equal(onServer.vpn?.address, `${server.address}/24`);
  const session = onServer.sessions.find((s) => s.source === `vpn ${client.address}`);
  assert.ok(session, JSON.stringify(onServer.sessions));
  assert.ok(session.sent > 0 && session.received > 0, JSON.stringify(session));

  const onClient = await statusOf(pair.left, clientStatus);
  assert.equal(onClient.vpn?.address, `${client.address}/24`);
  assert.equal(onClient.vpn?.device, client.device);
  assert.equal(onClient.sessions[0]?.source, `vpn ${client.address}`);
  // The client counts its VPN traffic too: at least the pings' IP bytes each way
  // (84 bytes per echo; the ping before the status above made more).
  const counted = onClient.sessions[0];
  assert.ok(counted.sent >= 3 * 84 && counted.received >= 3 * 84, JSON.stringify(counted));
});

interface StatusJson {
  role: string;
  vpn?: { address?: string; device?: string };
  sessions: { source: string; sent: number; received: number }[];
}

/** `tunnel status <address> --json` run inside `host`'s namespace. */
async function statusOf(host: InNamespace, address: string): Promise<StatusJson> {
  const result = await runInNs(host, [
    Deno.execPath(),
    ...tunnelCommandArgs(["status", address, "--json"]),
  ]);
  return JSON.parse(result.stdout);
}

/** Runs `cmd` in `host`'s namespace; asserts it exits 0. */
async function runInNs(host: InNamespace, cmd: string[]) {
  const result = await runCommand("ip", { args: inNamespace(host.ns, cmd), timeoutMs: 30_000 });
  assert.equal(result.code, 0, `${cmd.join(" ")}: ${result.stderr}`);
  return result;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "vpn: through symmetric NATs by the relay, the client knowing only the EndpointId",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const bed = await createBed({ left: "symmetric", right: "symmetric", stun: false });
    const scratch = await Deno.makeTempDir({ prefix: "tunnel-vpn-test-" });
    const token = generateToken();
    try {
      await using _relay = await startBedRelay(bed, ["--no-stun"]);
      const server = await startVpnServer(bed.right, [
        "--bind",
        "0.0.0.0:0",
        "--auth-tokens",
        token,
        "--relay-url",
        BED_RELAY_URL,
        "--dns-server",
        BED_PKARR_URL,
        "--no-stun",
      ]);
      await using _server = server.proc;
      const client = await startVpnClient(bed.left, server.id, [
        "--relay-url",
        BED_RELAY_URL,
        "--dns-server",
        BED_PKARR_URL,
        "--auth-token",
        token,
        "--no-stun",
      ], { lockFile: `${scratch}/client.lock` });
      await using _client = client.proc;
      assert.ok(
        client.proc.lines("stdout").includes(
          `Connected to server ${server.id} through relay ${BED_RELAY_URL}`,
        ),
        client.proc.lines("stdout").join("\n"),
      );
      await waitForPing(bed.left, server.address);
      await waitForPing(bed.right, client.address);
      const echo = await startBedEcho(bed.right, { hostname: server.address });
      await using _echo = echo.proc;
      const ms = await transferInBed(bed.left, echo.port, RELAY_TRANSFER_BYTES, {
        hostname: server.address,
      });
      // A path through the tunnel would carry the tunnel (it stalled transfers before).
      const inTunnel = [...client.proc.lines("stdout"), ...server.proc.lines("stdout")]
        .filter((line) => /^(path: direct|Listening on) 10\.0\.0\./.test(line));
      assert.deepEqual(inTunnel, [], "no path or address inside the VPN network");
      console.log(
        `RESULT | vpn via relay, symmetric x symmetric | ${
          RELAY_TRANSFER_BYTES / 1e6
        } MB echoed in ${ms.toFixed(0)} ms`,
      );
    } finally {
      await bed.close();
      await Deno.remove(scratch, { recursive: true });
    }
  },
});

vpnTest("vpn: --masquerade lets a client reach a LAN behind the server, and is undone", async (
  pair,
  scratch,
) => {
  const token = generateToken();
  // 192.0.3.2 knows only its own link: no route back to 10.0.0.0/24.
  const lan = await addVethHost(pair.right, { role: "lan", subnet: "192.0.3", peerDevice: "lan0" });
  try {
    const forwardingBefore = await sysctlValue(pair.right, "net.ipv4.ip_forward");
    const server = await serverIn(pair, token, ["--masquerade", lan.peerDevice]);
    const client = await startVpnClient(pair.left, server.id, [
      ...direct(token, pair.right.ip),
      "--route",
      lan.subnet,
    ], { lockFile: `${scratch}/client.lock` });
    await using _client = client.proc;
    await waitForPing(pair.left, server.address);
    await waitForPing(pair.left, lan.ip);
    assert.match((await tunnelRules(pair.right)).join("\n"), /MASQUERADE/);

    const status = await server.proc.stop({ signal: "SIGINT" });
    assert.equal(status.code, 0, server.proc.stderrText());
    assert.deepEqual(await tunnelRules(pair.right), []);
    assert.equal(await sysctlValue(pair.right, "net.ipv4.ip_forward"), forwardingBefore);
  } finally {
    await lan.close();
  }
});

vpnTest(
  "vpn: --masquerade under a FORWARD policy of DROP leaves client to client to the host's rules",
  async (
    pair,
    scratch,
  ) => {
    const token = generateToken();
    const hostB = await addVethHost(pair.right, {
      role: "clb",
      subnet: "192.0.3",
      peerDevice: "eth1",
    });
    try {
      await runInNs(pair.right, ["iptables", "-w", "5", "-P", "FORWARD", "DROP"]);
      const server = await serverIn(pair, token, ["--masquerade"]);
      await using _server = server.proc;
      const tun = server.device;
      assert.ok(
        server.proc.lines("stdout").some((line) =>
          line.startsWith(
            `Client to client: forwarded by this host's kernel (IP forwarding is on for ${tun})`,
          )
        ),
        server.proc.lines("stdout").join("\n"),
      );
      const a = await startVpnClient(pair.left, server.id, direct(token, pair.right.ip), {
        lockFile: `${scratch}/a.lock`,
      });
      await using _a = a.proc;
      const b = await startVpnClient(hostB, server.id, direct(token, hostB.peerIp), {
        lockFile: `${scratch}/b.lock`,
      });
      await using _b = b.proc;
      await waitForPing(pair.left, server.address);
      await waitForPing(hostB, server.address);
      // --masquerade's accept rules cover traffic out to other networks, not tun -> tun.
      assert.equal(await pings(pair.left, b.address), false, "the DROP policy still decides");
      await runInNs(pair.right, [
        "iptables",
        "-w",
        "5",
        "-A",
        "FORWARD",
        "-i",
        tun,
        "-o",
        tun,
        "-j",
        "ACCEPT",
      ]);
      await waitForPing(pair.left, b.address);
      await waitForPing(hostB, a.address);
    } finally {
      await hostB.close();
    }
  },
);

/** Rules in `host`'s filter and nat tables that carry VPN mode's tag. */
async function tunnelRules(host: InNamespace): Promise<string[]> {
  const rules: string[] = [];
  for (const table of ["filter", "nat"]) {
    const listed = await runInNs(host, ["iptables", "-w", "5", "-t", table, "-S"]);
    rules.push(...listed.stdout.split("\n").filter((line) => line.includes("tunnel-vpn")));
  }
  return rules;
}

async function sysctlValue(host: InNamespace, key: string): Promise<string> {
  return (await runInNs(host, ["sysctl", "-n", key])).stdout.trim();
}

/** Whether `ip` answers 2 pings from `host` (each waits at most 1 s). */
async function pings(host: InNamespace, ip: string): Promise<boolean> {
  const result = await runInNamespace(host.ns, [
    "ping",
    "-n",
    "-c",
    "2",
    "-i",
    "0.2",
    "-W",
    "1",
    ip,
  ]);
  return result.code === 0;
}

/** Packets counted by the FORWARD rule `spec` in `host`'s filter table. */
function forwardCounter(host: InNamespace, spec: string[]): Promise<number> {
  return ruleCounter(host, "filter", "FORWARD", spec);
}

/**
 * Packets counted by the rule `spec` of `chain` (`iptables -v -S` prints `-c <packets> <bytes>`).
 *
 * @throws {Error} when no rule has exactly these words.
 */
async function ruleCounter(
  host: InNamespace,
  table: string,
  chain: string,
  spec: string[],
): Promise<number> {
  const listed = await runInNs(host, ["iptables", "-w", "5", "-t", table, "-v", "-S", chain]);
  const want = [...spec].sort().join(" ");
  for (const line of listed.stdout.split("\n")) {
    const match = /^-A \S+ (.*?)\s*-c (\d+) \d+(.*)$/.exec(line.trim());
    if (!match) continue;
    // iptables prints a rule's words in its own order, and /32 or "-p icmp" as given.
    const words = `${match[1]} ${match[3]}`.trim().split(/\s+/).filter(Boolean);
    if (words.sort().join(" ") === want) return Number(match[2]);
  }
  throw new Error(`no ${table} ${chain} rule '${spec.join(" ")}' in:\n${listed.stdout}`);
}
