// The iroh-mode client across a server restart: it keeps its local port and
// socket, reconnects by itself and serves again; it gives up only on a refusal,
// and Ctrl-C ends it at any time. (`--no-reconnect`: hardening_test.ts.)
// The restarted server keeps its key and its address (the same --bind port, or
// on the relay path the same relay), so the client's flags still reach it.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey, writeSecretKeyFile } from "../../core/identity/mod.ts";
import {
  ManagedProcess,
  startClient,
  startServer,
  startTcpEchoServer,
  startUdpEchoServer,
  transferPayload,
  type TunnelClient,
  tunnelCommandArgs,
  type TunnelServer,
} from "../harness/mod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 50 ms until it holds; throws after `ms`. Returns when it held. */
async function waitFor(ms: number, what: string, check: () => boolean): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
  return performance.now();
}

const LOST = /^warning: Connection to the server lost: .+; reconnecting$/m;
const GOODBYE = /^warning: Connection to the server lost: server shutting down; reconnecting$/m;
const RECONNECTED = /^Reconnected to server [a-z2-7]{52} (at \S+|through relay \S+) after /;

/** A server whose key is in a file, so that it can be killed and started again as itself. */
async function restartableServer(tokens: string[]) {
  const dir = await Deno.makeTempDir();
  const secretFile = `${dir}/server.key`;
  await writeSecretKeyFile(secretFile, SecretKey.generate());
  const first = await startServer({ authTokens: tokens, secretFile });
  const running: TunnelServer[] = [first];
  return {
    first,
    /** SIGKILL, as a crash: no goodbye to the client. Waits until the process is gone. */
    async kill(server: TunnelServer = running.at(-1)!) {
      server.process.kill("SIGKILL");
      await server.process.status;
    },
    /** Starts it again with the same key where the client looks for it. */
    async restart(authTokens: string[] = tokens) {
      const server = await startServer({
        authTokens,
        secretFile,
        ...(first.relayUrl !== undefined
          ? { extraArgs: ["--relay-url", first.relayUrl, "--relay-only"] }
          : { bind: first.addr }),
      });
      running.push(server);
      return server;
    },
    async [Symbol.asyncDispose]() {
      // The first one last: on the relay path it owns the relay.
      for (const server of running.reverse()) await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function udpRoundTrip(clientPort: number, text: string): Promise<string> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    // UDP may lose a datagram; a bounded number of retries keeps the test honest.
    for (let attempt = 0; attempt < 5; attempt++) {
      await socket.send(new TextEncoder().encode(text), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: clientPort,
      });
      const timer = new Promise<null>((r) => setTimeout(() => r(null), 2_000));
      const got = await Promise.race([socket.receive(), timer]);
      if (got) return new TextDecoder().decode(got[0]);
    }
    throw new Error("no UDP reply");
  } finally {
    socket.close();
  }
}

async function assertCarries(client: TunnelClient) {
  const { sent, received } = await transferPayload(client.localPort, 1 << 16);
  assert.equal(received.sha256, sent.sha256);
}

Deno.test("kill -9 and restart of the server: the client reconnects by itself; a connection made meanwhile waits for it", async () => {
  await using echo = startTcpEchoServer();
  await using udpEcho = startUdpEchoServer();
  const token = generateToken();
  await using servers = await restartableServer([token]);
  const clientOptions = {
    serverNodeId: servers.first.endpointId,
    serverAddr: servers.first.addr,
    authToken: token,
  };
  await using tcp = await startClient({
    ...clientOptions,
    source: `tcp://127.0.0.1:${echo.port}`,
  });
  await using udp = await startClient({
    ...clientOptions,
    source: `udp://127.0.0.1:${udpEcho.port}`,
  });
  await assertCarries(tcp);
  assert.equal(await udpRoundTrip(udp.localPort, "before"), "before");

  const killedAt = performance.now();
  await servers.kill();
  await servers.restart();
  const restartedAt = performance.now();
  // The client notices when the server has not answered for 5 s, says so once, keeps its port.
  const lostAt = await waitFor(15_000, "loss reported", () => LOST.test(tcp.stderr()));
  // Made before the session is back (the first attempt waits 0.5-1 s): it waits for it.
  const transfer = transferPayload(tcp.localPort, 1 << 16);
  const servingAt = await waitFor(
    35_000,
    "reconnected",
    () => tcp.lines().some((line) => RECONNECTED.test(line)),
  );
  const { sent, received } = await transfer;
  assert.equal(received.sha256, sent.sha256);
  await assertCarries(tcp);
  // UDP flows go on through the new session.
  await waitFor(
    35_000,
    "UDP client reconnected",
    () => udp.lines().some((l) => RECONNECTED.test(l)),
  );
  assert.equal(await udpRoundTrip(udp.localPort, "after"), "after");

  for (const client of [tcp, udp]) {
    assert.equal(await exited(client), false, "still running");
    assert.equal(client.stderr().match(new RegExp(LOST, "gm"))?.length, 1, client.stderr());
    assert.doesNotMatch(client.stderr(), /Error:/);
  }
  console.log(
    `server restart -> serving again: ${(servingAt - restartedAt).toFixed(0)} ms ` +
      `(kill -> serving ${(servingAt - killedAt).toFixed(0)} ms; ` +
      `loss noticed ${(lostAt - killedAt).toFixed(0)} ms after the kill)`,
  );
});

Deno.test("SIGTERM of the server: the client says why within 1 s; a connection made meanwhile is forwarded once the server is back", async () => {
  await using echo = startTcpEchoServer();
  const token = generateToken();
  await using servers = await restartableServer([token]);
  await using client = await startClient({
    serverNodeId: servers.first.endpointId,
    serverAddr: servers.first.addr,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
  });
  await assertCarries(client);

  const terminating = performance.now();
  servers.first.process.kill("SIGTERM");
  const lostAt = await waitFor(5_000, "goodbye heard", () => GOODBYE.test(client.stderr()));
  const noticeMs = lostAt - terminating;
  assert.ok(noticeMs < 1_000, `goodbye heard ${noticeMs.toFixed(0)} ms after SIGTERM`);
  await servers.first.process.status;

  // Made while the client reconnects: it waits for the next session (10 s at most).
  const transfer = transferPayload(client.localPort, 1 << 16);
  await sleep(500);
  await servers.restart();
  const { sent, received } = await transfer;
  assert.equal(received.sha256, sent.sha256);
  assert.ok(client.lines().some((line) => RECONNECTED.test(line)), client.stderr());
  assert.equal(client.stderr().match(new RegExp(LOST, "gm"))?.length, 1, client.stderr());
  console.log(`SIGTERM -> client told: ${noticeMs.toFixed(0)} ms`);
});

Deno.test("SIGTERM of the server with --no-reconnect: the client exits 1 at once with the reason", async () => {
  await using echo = startTcpEchoServer();
  const token = generateToken();
  await using servers = await restartableServer([token]);
  await using client = await startClient({
    serverNodeId: servers.first.endpointId,
    serverAddr: servers.first.addr,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--no-reconnect"],
  });
  await assertCarries(client);
  const terminating = performance.now();
  servers.first.process.kill("SIGTERM");
  const status = await client.process.status;
  const exitMs = performance.now() - terminating;
  assert.equal(status.code, 1);
  assert.ok(exitMs < 1_000, `exited ${exitMs.toFixed(0)} ms after SIGTERM`);
  assert.match(client.stderr(), /^Error: Connection to the server lost: server shutting down$/m);
});

Deno.test("while the server is down a local connection waits 10 s, then is closed; the client serves again once it is back", async () => {
  await using echo = startTcpEchoServer();
  const token = generateToken();
  await using servers = await restartableServer([token]);
  await using client = await startClient({
    serverNodeId: servers.first.endpointId,
    serverAddr: servers.first.addr,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
  });
  await assertCarries(client);
  await servers.kill();
  await waitFor(15_000, "loss reported", () => LOST.test(client.stderr()));

  const conn = await Deno.connect({ hostname: "127.0.0.1", port: client.localPort });
  const connectedAt = performance.now();
  await conn.write(new TextEncoder().encode("anyone there?"));
  const read = await conn.read(new Uint8Array(64)).catch(() => null);
  const waited = performance.now() - connectedAt;
  conn.close();
  assert.equal(read, null, "closed without an answer");
  assert.ok(waited > 9_000 && waited < 14_000, `closed after ${waited.toFixed(0)} ms`);
  assert.match(
    client.stderr(),
    /warning: connection from 127\.0\.0\.1:\d+ closed: no session to the server: not reconnected within 10 s/,
  );

  await servers.restart();
  const restartedAt = performance.now();
  const servingAt = await waitFor(
    35_000,
    "reconnected",
    () => client.lines().some((line) => RECONNECTED.test(line)),
  );
  await assertCarries(client);
  // The outage printed a few summarised lines, not one per attempt and path.
  const warnings = client.stderr().split("\n").filter((line) => line.startsWith("warning:"));
  assert.ok(warnings.length <= 5, warnings.join("\n"));
  console.log(
    `server restart -> serving again after a longer outage: ${
      (servingAt - restartedAt).toFixed(0)
    } ms`,
  );
});

Deno.test("while reconnecting, Ctrl-C exits 0 at once and a refusal exits 1 with the first connect's error", async () => {
  const token = generateToken();
  await using servers = await restartableServer([token]);
  const start = () =>
    startClient({
      serverNodeId: servers.first.endpointId,
      serverAddr: servers.first.addr,
      source: "tcp://127.0.0.1:9",
      authToken: token,
    });
  await using interrupted = await start();
  await using refused = await start();
  await servers.kill();
  await waitFor(15_000, "loss reported", () => LOST.test(interrupted.stderr()));

  // Between attempts or in one: either way Ctrl-C ends the client at once, and cleanly.
  await sleep(1_500);
  const stopping = performance.now();
  const status = await interrupted.stop();
  const stopMs = performance.now() - stopping;
  assert.equal(status.code, 0, interrupted.stderr());
  assert.ok(stopMs < 2_500, `stopped after ${stopMs.toFixed(0)} ms`);
  assert.ok(interrupted.lines().includes("Shutting down"));

  // The server comes back with other tokens: the token is refused, and that is final.
  await servers.restart([generateToken()]);
  const refusedStatus = await refused.process.status;
  assert.equal(refusedStatus.code, 1);
  assert.match(
    refused.stderr(),
    /^Error: server refused authentication: .+ \(ask the server's operator for a valid token\)$/m,
  );
});

Deno.test("Ctrl-C in the middle of the first connect exits 0 at once", async () => {
  // A "relay" that accepts the TCP connection and never answers: the client is
  // then certainly connecting, and would wait for the relay's timeout.
  using silentRelay = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "client",
      "--server-node-id",
      SecretKey.generate().endpointId.toString(),
      "--relay-url",
      `http://127.0.0.1:${silentRelay.addr.port}`,
      "--relay-only",
      "--no-dns",
      "--source",
      "tcp://127.0.0.1:9",
      "--target",
      "127.0.0.1:0",
      "--auth-token",
      generateToken(),
    ]),
  });
  await using _ = client;
  using _connecting = await silentRelay.accept();
  const stopping = performance.now();
  client.process.kill("SIGINT");
  const status = await client.status;
  const stopMs = performance.now() - stopping;
  assert.equal(status.code, 0, client.stderrText());
  assert.ok(stopMs < 2_000, `stopped after ${stopMs.toFixed(0)} ms`);
  assert.deepEqual(client.lines(), ["Shutting down"]);
});

/** Whether the client's process has exited, without waiting for it. */
async function exited(client: TunnelClient): Promise<boolean> {
  const done = await Promise.race([
    client.process.status.then(() => true),
    sleep(0).then(() => false),
  ]);
  return done;
}
