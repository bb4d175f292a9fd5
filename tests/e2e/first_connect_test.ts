// A client started before its server (machines that start both at boot): it
// retries like a reconnect, one line per change of cause, and gets through once
// the server is up; with --no-reconnect it exits 1 with one line. Its lines name
// paths as the user gave them (the relay URL, the --server-addr), never the
// relay shim's loopback port, and stay short.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey, writeSecretKeyFile } from "../../core/identity/mod.ts";
import {
  freePort,
  ManagedProcess,
  runCli,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  testPath,
  transferPayload,
  tunnelCommandArgs,
} from "../harness/mod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const READY = /^Tunnel ready: 127\.0\.0\.1:(\d+) -> /;
const NOT_YET = /^warning: Cannot connect to server [a-z2-7]{52} yet: /;
/** What a line may be at most: one cause, one server, one hint. */
const MAX_LINE = 300;

/** A server key in a file, so a server started later is the one the client was told of. */
async function serverKey() {
  const dir = await Deno.makeTempDir();
  const secretFile = `${dir}/server.key`;
  const key = SecretKey.generate();
  await writeSecretKeyFile(secretFile, key);
  return {
    secretFile,
    endpointId: key.endpointId.toString(),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function spawnClient(args: string[]): ManagedProcess {
  return ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs(["client", ...args, "--target", "127.0.0.1:0"]),
  });
}

/** Asserts the client's warnings are short and name no loopback port but `allowedPorts`. */
function assertPlainLines(stderr: string, allowedPorts: number[]) {
  for (const line of stderr.split("\n").filter(Boolean)) {
    assert.ok(line.length <= MAX_LINE, `${line.length} characters: ${line}`);
    for (const [, port] of line.matchAll(/127\.0\.0\.1:(\d+)/g)) {
      assert.ok(allowedPorts.includes(Number(port)), `an internal port in: ${line}`);
    }
  }
}

Deno.test({
  name:
    "a client started before its server (direct): still trying after 3 s, it forwards once the server is up",
  ignore: testPath() === "relay",
}, async () => {
  await using echo = startTcpEchoServer();
  await using key = await serverKey();
  const token = generateToken();
  const port = freePort({ transport: "udp" });
  await using client = spawnClient([
    ...["--server-node-id", key.endpointId, "--server-addr", `127.0.0.1:${port}`],
    ...["--no-relay", "--no-dns", "--source", `tcp://127.0.0.1:${echo.port}`],
    ...["--auth-token", token],
  ]);
  await sleep(3_000);
  assert.equal(client.exitStatus, undefined, `still trying: ${client.stderrText()}`);
  // The first attempt gives up once QUIC's idle timeout (6 s) passes; the server comes after, so
  // only a retry can reach it.
  await client.waitForLine(NOT_YET, { timeoutMs: 20_000 });
  await using _server = await startServer({
    authTokens: token,
    secretFile: key.secretFile,
    bind: `127.0.0.1:${port}`,
  });
  const ready = await client.waitForLine(READY, { timeoutMs: 20_000 });
  const { sent, received } = await transferPayload(Number(READY.exec(ready)![1]), 1 << 16);
  assert.equal(received.sha256, sent.sha256);
  // One line per cause, not one per attempt.
  const notYet = client.stderrText().split("\n").filter((line) => NOT_YET.test(line));
  assert.ok(notYet.length <= 2, client.stderrText());
  assertPlainLines(client.stderrText(), [port, echo.port]);
});

Deno.test({
  name: "with --no-reconnect a client with no server exits 1 with one line naming the address",
  ignore: testPath() === "relay",
}, async () => {
  const port = freePort({ transport: "udp" });
  const result = await runCli([
    ...["client", "--no-reconnect", "--server-node-id", SecretKey.generate().endpointId.toString()],
    ...["--server-addr", `127.0.0.1:${port}`, "--no-relay", "--no-dns"],
    ...["--source", "tcp://127.0.0.1:22", "--target", "127.0.0.1:0"],
    ...["--auth-token", generateToken()],
  ]);
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0],
    new RegExp(`^Error: Cannot reach the server \\(127\\.0\\.0\\.1:${port}: `),
  );
});

Deno.test("through a relay: the client waits for its server naming the relay (never the shim's port), then forwards; its reconnect lines are alike", async () => {
  const relay = await startLocalRelay();
  await using _relay = relay.proc;
  const relayPort = Number(new URL(relay.url).port);
  await using echo = startTcpEchoServer();
  await using key = await serverKey();
  const token = generateToken();
  const relayArgs = ["--relay-url", relay.url, "--relay-only"];

  // With --no-reconnect: one line, naming the relay.
  const once = await runCli([
    ...["client", "--no-reconnect", "--server-node-id", key.endpointId, "--no-dns", ...relayArgs],
    ...["--source", "tcp://127.0.0.1:22", "--target", "127.0.0.1:0", "--auth-token", token],
  ], { timeoutMs: 30_000 });
  assert.equal(once.code, 1, once.stderr);
  const onceLines = once.stderr.trim().split("\n");
  assert.equal(onceLines.length, 1, once.stderr);
  assert.match(
    onceLines[0],
    /^Error: Cannot reach the server \(relay http:\/\/127\.0\.0\.1:\d+\/?: /,
  );
  assertPlainLines(once.stderr, [relayPort]);

  await using client = spawnClient([
    ...["--server-node-id", key.endpointId, "--no-dns", ...relayArgs],
    ...["--source", `tcp://127.0.0.1:${echo.port}`, "--auth-token", token],
  ]);
  // The first attempt through the relay gives up after the dial timeout (10 s).
  await client.waitForLine(NOT_YET, { timeoutMs: 20_000 });
  assert.equal(client.exitStatus, undefined, client.stderrText());
  const server = await startServer({
    authTokens: token,
    secretFile: key.secretFile,
    extraArgs: relayArgs,
  });
  const ready = await client.waitForLine(READY, { timeoutMs: 40_000 });
  const { sent, received } = await transferPayload(Number(READY.exec(ready)![1]), 1 << 16);
  assert.equal(received.sha256, sent.sha256);

  // The server goes; the client's reconnect attempts fail through the relay.
  await server.stop();
  await client.waitForLine(/^warning: reconnect attempt \d+ failed: relay /, { timeoutMs: 30_000 });
  assert.match(client.stderrText(), /Connection to the server lost: server shutting down/);
  assertPlainLines(client.stderrText(), [relayPort, echo.port]);
  console.log(`${onceLines[0]}\n${client.stderrText()}`);
});
