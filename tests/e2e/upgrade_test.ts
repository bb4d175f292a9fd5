// iroh mode's hole punching on loopback: a session that starts through a local
// `tunnel relay` gains a direct path (ICE with 127.0.0.1 host candidates, no
// STUN), says so, keeps working when the relay is killed, and --relay-only
// never leaves the relay.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  runCli,
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

const LOOPBACK_ICE = ["--host-candidate", "127.0.0.1", "--no-stun"];

async function until(what: string, check: () => boolean, ms = 15_000) {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}

Deno.test("hole punching: relay first, then direct; the session outlives the relay", async () => {
  const relay = await startLocalRelay();
  await using _relay = relay.proc;
  const token = generateToken();
  await using echo = startTcpEchoServer();
  await using server = await startServer({
    authTokens: token,
    extraArgs: ["--relay-url", relay.url, ...LOOPBACK_ICE, "-v"],
  });
  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--relay-url", relay.url, ...LOOPBACK_ICE],
  });
  const lines = () => client.lines();
  assert.ok(lines().some((l) => l.includes(`through relay ${relay.url}`)), lines().join("\n"));
  const toDirect = await until(
    "a direct path",
    () => lines().some((l) => /^path: direct 127\.0\.0\.1:\d+ \(host\), rtt \d+\.\d ms$/.test(l)),
  );
  console.log(`direct ${toDirect.toFixed(0)} ms after the tunnel was ready`);
  // (The relay's own path line may be skipped: a newer change, direct, came before its first probe.)
  await until("the server's path line", () => server.stderr().includes("path: direct 127.0.0.1:"));

  // A transfer in flight when the relay dies completes; new connections work.
  const running = transferPayload(client.localPort, 8 << 20, { timeoutMs: 30_000 });
  await relay.proc.stop({ signal: "SIGKILL" });
  const { sent, received } = await running;
  assert.equal(received.sha256, sent.sha256);
  // The relayed path stays in the session, silent, while its relay is away: new connections take
  // the direct one.
  await new Promise((r) => setTimeout(r, 7_000));
  const after = await transferPayload(client.localPort, 1 << 20);
  assert.equal(after.received.sha256, after.sent.sha256);
  assert.equal(client.process.pid > 0, true);
  assert.ok(!lines().some((l) => l.startsWith("Error")), lines().join("\n"));

  // The session now runs on the punched path alone: a server that stops says goodbye on it.
  server.process.kill("SIGTERM");
  const heard = await until(
    "the goodbye",
    () => client.stderr().includes("Connection to the server lost: server shutting down"),
    5_000,
  );
  assert.ok(heard < 1_000, `goodbye heard ${heard.toFixed(0)} ms after SIGTERM`);
});

Deno.test("hole punching: --relay-only stays on the relay", async () => {
  const relay = await startLocalRelay();
  await using _relay = relay.proc;
  const token = generateToken();
  await using echo = startTcpEchoServer();
  await using server = await startServer({
    authTokens: token,
    extraArgs: ["--relay-url", relay.url, ...LOOPBACK_ICE],
  });
  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--relay-url", relay.url, "--relay-only", ...LOOPBACK_ICE],
  });
  await new Promise((r) => setTimeout(r, 3_000));
  const { sent, received } = await transferPayload(client.localPort, 1 << 20);
  assert.equal(received.sha256, sent.sha256);
  assert.ok(!client.lines().some((l) => l.startsWith("path: direct")), client.lines().join("\n"));
  assert.ok(client.lines().some((l) => l.startsWith(`path: relay ${relay.url}`)));
});

Deno.test("tunnel status: each side lists its session, path, round trip, bytes and connections", async () => {
  const relay = await startLocalRelay();
  await using _relay = relay.proc;
  const token = generateToken();
  await using echo = startTcpEchoServer();
  await using server = await startServer({
    authTokens: token,
    extraArgs: ["--relay-url", relay.url, ...LOOPBACK_ICE, "--status", "127.0.0.1:0"],
  });
  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--relay-url", relay.url, ...LOOPBACK_ICE, "--status", "127.0.0.1:0"],
  });
  const statusAddr = (lines: string[]) =>
    lines.find((l) => l.startsWith("Status: tunnel status "))!.slice(22);
  const serverStatus = statusAddr(server.lines());
  const clientStatus = statusAddr(client.lines());
  await until("a direct path", () => client.lines().some((l) => l.startsWith("path: direct")));
  // One connection held open while the status is read; bytes already moved.
  const held = await Deno.connect({ hostname: "127.0.0.1", port: client.localPort });
  await held.write(new Uint8Array(1000));
  await held.read(new Uint8Array(1000));
  await new Promise((r) => setTimeout(r, 1_200)); // a probe round for the round trip
  for (const [addr, role] of [[clientStatus, "client"], [serverStatus, "server"]] as const) {
    const json = await runCli(["status", addr, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.role, role);
    assert.equal(doc.endpointId, server.endpointId);
    assert.equal(doc.sessions.length, 1);
    const session = doc.sessions[0];
    assert.equal(session.path.kind, "direct", json.stdout);
    assert.equal(typeof session.path.rttMs, "number");
    assert.equal(session.paths.length, 2, "direct and the relay");
    assert.ok(session.sent >= 1000 && session.received >= 1000, json.stdout);
    assert.equal(session.tcpConnections, 1);
    assert.equal(session.udpFlows, 0);
    const text = await runCli(["status", addr]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /path: direct 127\.0\.0\.1:\d+ \(host\), rtt \d+\.\d ms for \d+ s/);
    assert.match(text.stdout, new RegExp(`also: relay ${relay.url.replace(/[.]/g, "\\.")}`));
    assert.match(text.stdout, /1 TCP connection\(s\), 0 UDP flow\(s\)/);
  }
  held.close();
  // A status nobody serves, and one that is not loopback: one line each.
  const none = await runCli(["status", "127.0.0.1:1"]);
  assert.equal(none.code, 1);
  assert.match(
    none.stderr.trim(),
    /^Error: Cannot read the status at http:\/\/127\.0\.0\.1:1\/status: nothing answers there/,
  );
  const remote = await runCli(["status", "192.0.2.1:7070"]);
  assert.equal(remote.code, 2);
  assert.match(remote.stderr, /served on loopback only/);
});
