import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { encodeMessage } from "../../core/tunnel/mod.ts";
import {
  dialServer,
  runCli,
  startServer,
  startTcpEchoServer,
  testPath,
  transferPayload,
  type TunnelServer,
} from "../harness/mod.ts";
import { openTunnel } from "./_fixtures.ts";

async function server(extra: { maxSessions?: number } = {}) {
  const token = generateToken();
  const s = await startServer({
    authTokens: token,
    bind: "127.0.0.1:0",
    allowedTcp: ["127.0.0.0/8"],
    allowedUdp: [],
    ...extra,
  });
  return { s, token };
}

function client(s: TunnelServer, args: string[]) {
  return runCli([
    "client",
    "--server-node-id",
    s.endpointId,
    ...s.pathArgs,
    "--target",
    "127.0.0.1:0",
    ...args,
  ]);
}

/** One line on stderr, starting with `Error:`, and a non-zero exit. */
function assertOneLineError(result: { code: number; stderr: string }, pattern: RegExp) {
  assert.notEqual(result.code, 0);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0], /^Error: /);
  assert.match(lines[0], pattern);
}

Deno.test("a wrong token is refused with the server's reason", async () => {
  const { s } = await server();
  await using _ = s;
  const result = await client(s, [
    "--source",
    "tcp://127.0.0.1:22",
    "--auth-token",
    generateToken(),
  ]);
  assertOneLineError(result, /server refused authentication: invalid authentication token/);
});

Deno.test("a missing token is refused before dialing", async () => {
  const { s } = await server();
  await using _ = s;
  assertOneLineError(await client(s, ["--source", "tcp://127.0.0.1:22"]), /Missing --auth-token/);
});

Deno.test("a source outside the allowlist is refused, naming the address", async () => {
  const { s, token } = await server();
  await using _ = s;
  const result = await client(s, ["--source", "tcp://10.1.2.3:22", "--auth-token", token]);
  assertOneLineError(
    result,
    /refused source tcp:\/\/10\.1\.2\.3:22: 10\.1\.2\.3 is not in the server's allowed networks/,
  );
  const udp = await client(s, ["--source", "udp://127.0.0.1:53", "--auth-token", token]);
  assertOneLineError(udp, /server allows no UDP sources/);
});

// Through a relay a wrong EndpointId names a key nobody holds there: no peer
// answers rather than a wrong one, which relay_path_test covers.
Deno.test({
  name: "a wrong EndpointId fails with an identity mismatch",
  ignore: testPath() === "relay",
}, async () => {
  const { s, token } = await server();
  await using _ = s;
  const result = await runCli([
    "client",
    "--server-node-id",
    SecretKey.generate().endpointId.toString(),
    "--no-relay",
    "--no-dns",
    "--server-addr",
    s.addr,
    "--source",
    "tcp://127.0.0.1:22",
    "--target",
    "127.0.0.1:0",
    "--auth-token",
    token,
  ]);
  assertOneLineError(result, /server's identity did not match the EndpointId/);
});

Deno.test("--max-sessions refuses the extra client with a message it prints", async () => {
  await using echo = startTcpEchoServer();
  await using tunnel = await openTunnel(`tcp://127.0.0.1:${echo.port}`, { maxSessions: 1 });
  // --no-reconnect: a full server is worth waiting for otherwise.
  const result = await client(tunnel.server, [
    "--no-reconnect",
    "--source",
    `tcp://127.0.0.1:${echo.port}`,
    "--auth-token",
    tunnel.token,
  ]);
  assertOneLineError(result, /server is at its session limit \(1\)/);
  // The first client is still served.
  const { sent, received } = await transferPayload(tunnel.client.localPort, 10_000);
  assert.equal(received.sha256, sent.sha256);
});

Deno.test("many clients with different sources are served at once", async () => {
  await using a = startTcpEchoServer();
  await using b = startTcpEchoServer();
  await using first = await openTunnel(`tcp://127.0.0.1:${a.port}`);
  const { startClient } = await import("../harness/mod.ts");
  await using second = await startClient({
    serverNodeId: first.server.endpointId,
    serverAddr: first.server.addr,
    source: `tcp://127.0.0.1:${b.port}`,
    authToken: first.token,
  });
  const [x, y] = await Promise.all([
    transferPayload(first.client.localPort, 1_000_000, { seed: 3 }),
    transferPayload(second.localPort, 1_000_000, { seed: 4 }),
  ]);
  assert.equal(x.received.sha256, x.sent.sha256);
  assert.equal(y.received.sha256, y.sent.sha256);
  assert.equal(a.handled, 1);
  assert.equal(b.handled, 1);
});

Deno.test("a client that never authenticates is disconnected after 5 s; others are unaffected", async () => {
  const { s } = await server();
  await using _ = s;
  const silent = await dialServer(s);
  const hostile = await dialServer(s);
  const started = performance.now();
  // Garbage on the auth stream: the server must drop this peer, not crash.
  const stream = await hostile.openStream();
  const writer = stream.writable.getWriter();
  await writer.write(Uint8Array.of(0x7f, 0xff, 0xff, 1, 2, 3));
  const hostileClosed = await hostile.closed;
  assert.ok(performance.now() - started < 3_000, "garbage should be dropped at once");
  assert.notEqual(hostileClosed.code, 0);
  // A stream that is not authentication is refused at once, not forwarded.
  const early = await dialServer(s);
  const earlyWriter = (await early.openStream()).writable.getWriter();
  await earlyWriter.write(encodeMessage({ type: "tcp-open", pipeId: 7 }));
  assert.match((await early.closed).reason, /first message was not authentication/);
  const closed = await silent.closed;
  const elapsed = performance.now() - started;
  assert.ok(elapsed > 4_500 && elapsed < 8_000, `closed after ${elapsed} ms`);
  assert.match(closed.reason, /no valid authentication in time/);
  const result = await client(s, ["--source", "tcp://10.0.0.1:1", "--auth-token", generateToken()]);
  assertOneLineError(result, /invalid authentication token/);
});

Deno.test("a refused client that stays connected does not keep its session slot", async () => {
  const { s, token } = await server({ maxSessions: 1 });
  await using _ = s;
  const conn = await dialServer(s);
  // A hostile client: authenticates, asks for a refused source, then stays.
  const { FramedStream } = await import("../../core/tunnel/framed_stream.ts");
  const auth = new FramedStream(await conn.openStream());
  await auth.write({ type: "auth-request", credential: new TextEncoder().encode(token) });
  assert.equal((await auth.read())?.type, "auth-response");
  const control = new FramedStream(await conn.openStream());
  await control.write({ type: "source-request", source: "tcp://10.0.0.1:22" });
  const answer = await control.read();
  assert.ok(answer?.type === "source-response" && !answer.accepted);
  await new Promise((r) => setTimeout(r, 1_500));
  const result = await client(s, ["--source", "tcp://10.0.0.2:22", "--auth-token", token]);
  assertOneLineError(result, /refused source tcp:\/\/10\.0\.0\.2:22/);
  conn.close();
});
