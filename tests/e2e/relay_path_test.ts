// iroh mode through `tunnel relay`: the client knows only the EndpointId and
// the relay; TCP, UDP (large datagrams too) and refusals work as direct.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { signRecord } from "../../core/discovery/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import {
  runCli,
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  startUdpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

function startRelay() {
  return startLocalRelay();
}

Deno.test("through the relay: TCP and UDP forward, the path is named, a wrong token is refused", async () => {
  const relay = await startRelay();
  await using _relay = relay.proc;
  const token = generateToken();
  await using tcpEcho = startTcpEchoServer();
  await using udpEcho = startUdpEchoServer();
  await using server = await startServer({
    authTokens: token,
    bind: "127.0.0.1:0",
    extraArgs: ["--relay-url", relay.url],
  });
  assert.ok(server.lines().includes(`Relay: ${relay.url}`));

  await using tcp = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${tcpEcho.port}`,
    authToken: token,
    extraArgs: ["--relay-url", relay.url],
  });
  assert.ok(
    tcp.lines().some((l) => l.includes(`through relay ${relay.url}`)),
    tcp.lines().join("\n"),
  );
  const { sent, received } = await transferPayload(tcp.localPort, 4 << 20);
  assert.equal(received.sha256, sent.sha256);
  // The server names a relayed client by its key at the relay, not by the local shim socket.
  const connected = server.lines().filter((l) => l.includes("client connected from"));
  assert.equal(connected.length, 1, server.lines().join("\n"));
  assert.match(
    connected[0],
    new RegExp(
      `client connected from [a-z2-7]{52} through relay ${relay.url.replace(/[.]/g, "\\.")}$`,
    ),
  );

  await using udp = await startClient({
    serverNodeId: server.endpointId,
    source: `udp://127.0.0.1:${udpEcho.port}`,
    authToken: token,
    extraArgs: ["--relay-url", relay.url],
  });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    for (const size of [10, 1_400, 60_000]) {
      const payload = crypto.getRandomValues(new Uint8Array(size));
      let reply: Uint8Array | undefined;
      for (let attempt = 0; attempt < 5 && !reply; attempt++) {
        await socket.send(payload, {
          transport: "udp",
          hostname: "127.0.0.1",
          port: udp.localPort,
        });
        const timer = new Promise<null>((r) => setTimeout(() => r(null), 2_000));
        reply = (await Promise.race([socket.receive(), timer]))?.[0];
      }
      assert.deepEqual(reply, payload, `${size} bytes`);
    }
  } finally {
    socket.close();
  }

  const refused = await runCli([
    "client",
    "--server-node-id",
    server.endpointId,
    "--no-dns",
    "--relay-url",
    relay.url,
    "--source",
    `tcp://127.0.0.1:${tcpEcho.port}`,
    "--target",
    "127.0.0.1:0",
    "--auth-token",
    generateToken(),
  ]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /invalid authentication token/);
});

Deno.test("discovery: a client given only the EndpointId and the pkarr relay finds the server", async () => {
  const relay = await startRelay();
  await using _relay = relay.proc;
  const dns = `${relay.url.replace(/\/$/, "")}/pkarr`;
  const token = generateToken();
  await using echo = startTcpEchoServer();
  await using server = await startServer({
    authTokens: token,
    bind: "127.0.0.1:0",
    extraArgs: ["--relay-url", relay.url, "--dns-server", dns],
  });
  assert.ok(server.lines().includes(`Discovery: published to ${dns}`), server.lines().join("\n"));
  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--dns-server", dns],
  });
  const { sent, received } = await transferPayload(client.localPort, 1 << 20);
  assert.equal(received.sha256, sent.sha256);

  // An EndpointId nobody published: the error names the server it asked (with
  // --no-reconnect; without, the client waits for the server to publish).
  const unknown = await runCli([
    "client",
    "--no-reconnect",
    "--server-node-id",
    "a".repeat(52),
    "--dns-server",
    dns,
    "--source",
    `tcp://127.0.0.1:${echo.port}`,
    "--target",
    "127.0.0.1:0",
    "--auth-token",
    token,
  ]);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    new RegExp(`No discovery record for a{52} at ${dns.replace(/[.]/g, "\\.")}`),
  );
});

Deno.test("--relay-only: the server offers no address, the client finds it by EndpointId alone", async () => {
  const relay = await startRelay();
  await using _relay = relay.proc;
  const dns = `${relay.url.replace(/\/$/, "")}/pkarr`;
  const token = generateToken();
  await using echo = startTcpEchoServer();
  await using server = await startServer({
    authTokens: token,
    extraArgs: ["--relay-url", relay.url, "--dns-server", dns, "--relay-only"],
  });
  assert.deepEqual(server.addrs, []);
  assert.ok(server.lines().includes("Relay only: no direct address is offered"));
  await using client = await startClient({
    serverNodeId: server.endpointId,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
    extraArgs: ["--dns-server", dns, "--relay-only"],
  });
  assert.ok(
    client.lines().some((l) => l.includes(`through relay ${relay.url}`)),
    client.lines().join("\n"),
  );
  const { sent, received } = await transferPayload(client.localPort, 1 << 20);
  assert.equal(received.sha256, sent.sha256);
});

Deno.test("discovery: a record signed by another key is refused, naming the pkarr relay", async () => {
  const victim = SecretKey.generate();
  const forger = SecretKey.generate();
  // A hostile pkarr relay: answers every lookup with a record the forger signed.
  const forged = signRecord(forger, {
    relayUrls: ["http://127.0.0.1:9/"],
    addrs: [{ hostname: "127.0.0.1", port: 9 }],
    timestampMicros: BigInt(Date.now()) * 1000n,
  });
  await using hostile = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response(forged, { headers: { "content-type": "application/x-pkarr-signed-packet" } }),
  );
  const dns = `http://127.0.0.1:${hostile.addr.port}/pkarr`;
  const result = await runCli([
    "client",
    "--no-reconnect",
    "--server-node-id",
    victim.endpointId.toString(),
    "--dns-server",
    dns,
    "--source",
    "tcp://127.0.0.1:22",
    "--target",
    "127.0.0.1:0",
    "--auth-token",
    generateToken(),
  ]);
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0],
    new RegExp(`^Error: Cannot look ${victim.endpointId} up at ${dns.replace(/[.]/g, "\\.")}: `),
  );
  assert.match(lines[0], new RegExp(`not a record of ${victim.endpointId}`));
});
