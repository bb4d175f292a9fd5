// iroh mode's hole punching on loopback: a session that starts through a local
// `tunnel relay` gains a direct path (ICE with 127.0.0.1 host candidates, no
// STUN), says so, keeps working when the relay is killed, and --relay-only
// never leaves the relay.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
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
    () => lines().some((l) => /^path: direct 127\.0\.0\.1:\d+, rtt \d+\.\d ms$/.test(l)),
  );
  console.log(`direct ${toDirect.toFixed(0)} ms after the tunnel was ready`);
  assert.ok(lines().some((l) => l.startsWith(`path: relay ${relay.url}`)), lines().join("\n"));
  await until("the server's path line", () => server.stderr().includes("path: direct 127.0.0.1:"));

  // A transfer in flight when the relay dies completes; new connections work.
  const running = transferPayload(client.localPort, 8 << 20, { timeoutMs: 30_000 });
  await relay.proc.stop({ signal: "SIGKILL" });
  const { sent, received } = await running;
  assert.equal(received.sha256, sent.sha256);
  await new Promise((r) => setTimeout(r, 7_000)); // past QUIC's idle timeout for the relayed path
  const after = await transferPayload(client.localPort, 1 << 20);
  assert.equal(after.received.sha256, after.sent.sha256);
  assert.equal(client.process.pid > 0, true);
  assert.ok(!lines().some((l) => l.startsWith("Error")), lines().join("\n"));
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
