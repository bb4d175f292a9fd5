// Discovery through the Mainline DHT, on loopback: a private DHT of our own
// full nodes (the test's), `tunnel relay`, and a server and client that share
// nothing but the server's EndpointId and a bootstrap node. The record goes
// server -> DHT -> client directly, and through the relay's mirror both ways
// (a record PUT at the relay is found in the DHT; one only in the DHT is served
// at the relay's /pkarr). tests/netns/dht_interop_test.ts does the same with
// another implementation's nodes, behind NAT.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { type DhtNode, startDhtNode } from "../../core/dht/mod.ts";
import {
  runCli,
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

/** Our full nodes on loopback, each joined through the first. */
async function startPrivateDht(count: number): Promise<{ nodes: DhtNode[]; bootstrap: string[] }> {
  const first = await startDhtNode({ bootstrap: [], bind: { hostname: "127.0.0.1", port: 0 } });
  const nodes = [first];
  for (let i = 1; i < count; i++) {
    nodes.push(
      await startDhtNode({
        bootstrap: [first.localAddress],
        bind: { hostname: "127.0.0.1", port: 0 },
      }),
    );
  }
  await Promise.all(nodes.slice(1).map((node) => node.bootstrap()));
  await first.bootstrap();
  return {
    nodes,
    bootstrap: nodes.map((node) => `${node.localAddress.hostname}:${node.localAddress.port}`),
  };
}

async function closeAll(nodes: DhtNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.close()));
}

Deno.test("a client that knows only the EndpointId finds the server's record in the DHT and connects through the relay it names", async () => {
  const dht = await startPrivateDht(8);
  try {
    const relay = await startLocalRelay();
    await using _relay = relay.proc;
    const token = generateToken();
    await using echo = startTcpEchoServer();
    await using server = await startServer({
      authTokens: token,
      extraArgs: [
        "--relay-url",
        relay.url,
        "--relay-only",
        "--no-dns",
        "--dht-bootstrap",
        dht.bootstrap[0],
        "--status",
        "127.0.0.1:0",
      ],
    });
    // The start does not wait for the DHT: the publish is told when it is done.
    const published = await waitFor(
      () => server.lines().find((line) => line === "Discovery: published to the DHT"),
      10_000,
    );
    assert.ok(published, server.lines().join("\n"));
    const serverStatus = await runCli(["status", await statusAddressOf(server.lines)]);
    assert.match(
      serverStatus.stdout,
      /record: published in the DHT, \d{4}-\d\d-\d\dT/,
      serverStatus.stdout,
    );
    await using client = await startClient({
      serverNodeId: server.endpointId,
      source: `tcp://127.0.0.1:${echo.port}`,
      authToken: token,
      extraArgs: [
        "--relay-only",
        "--no-dns",
        "--dht-bootstrap",
        dht.bootstrap[5],
        "--status",
        "127.0.0.1:0",
      ],
    });
    const lines = client.lines();
    assert.ok(lines.some((l) => l.includes(`through relay ${relay.url}`)), lines.join("\n"));
    const { sent, received } = await transferPayload(client.localPort, 1 << 20);
    assert.equal(received.sha256, sent.sha256);
    const status = await runCli(["status", await statusAddressOf(client.lines)]);
    assert.match(status.stdout, /record: found in the DHT, signed \d{4}-\d\d-\d\dT/, status.stdout);
  } finally {
    await closeAll(dht.nodes);
  }
});

Deno.test("tunnel relay --dht: a record PUT at the relay is found in the DHT, and one only in the DHT is served at /pkarr", async () => {
  const dht = await startPrivateDht(8);
  try {
    const relay = await startLocalRelay(["--dht-bootstrap", dht.bootstrap[1]]);
    await using _relay = relay.proc;
    const pkarr = `${relay.url.replace(/\/$/, "")}/pkarr`;
    const token = generateToken();
    await using echo = startTcpEchoServer();
    // Publishes to the relay only; the relay's mirror puts it into the DHT.
    await using viaRelay = await startServer({
      authTokens: token,
      extraArgs: ["--relay-url", relay.url, "--relay-only", "--dns-server", pkarr],
    });
    const byDht = await retryUntil(() =>
      startClient({
        serverNodeId: viaRelay.endpointId,
        source: `tcp://127.0.0.1:${echo.port}`,
        authToken: token,
        extraArgs: ["--relay-only", "--no-dns", "--dht-bootstrap", dht.bootstrap[6]],
      }), 15_000);
    await using _byDht = byDht;
    const first = await transferPayload(byDht.localPort, 256 << 10);
    assert.equal(first.received.sha256, first.sent.sha256);

    // Publishes to the DHT only; a client asking the relay gets it from there.
    await using viaDht = await startServer({
      authTokens: token,
      extraArgs: [
        "--relay-url",
        relay.url,
        "--relay-only",
        "--no-dns",
        "--dht-bootstrap",
        dht.bootstrap[2],
      ],
    });
    await waitFor(
      () => viaDht.lines().find((line) => line === "Discovery: published to the DHT"),
      10_000,
    );
    await using byRelay = await startClient({
      serverNodeId: viaDht.endpointId,
      source: `tcp://127.0.0.1:${echo.port}`,
      authToken: token,
      extraArgs: ["--relay-only", "--dns-server", pkarr],
    });
    const second = await transferPayload(byRelay.localPort, 256 << 10);
    assert.equal(second.received.sha256, second.sent.sha256);
  } finally {
    await closeAll(dht.nodes);
  }
});

Deno.test("DHT flags: a malformed bootstrap is one line; a silent one is told and the server still serves", async () => {
  const bad = await runCli([
    "server",
    "--auth-tokens",
    generateToken(),
    "--dht-bootstrap",
    "nowhere",
    "--no-dns",
    "--no-relay",
  ]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert.match(bad.stderr, /--dht-bootstrap/);
  const both = await runCli(["relay", "--no-dht", "--dht-bootstrap", "127.0.0.1:9"]);
  assert.equal(both.code, 2, both.stderr);
  assert.match(
    both.stderr,
    /^Error: Use either --dht-bootstrap or --no-dht, not both \(see 'tunnel relay --help'\)\n$/,
  );

  // A bootstrap that answers nothing (a UDP port no one listens on).
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (silent.addr as Deno.NetAddr).port;
  silent.close();
  const token = generateToken();
  await using server = await startServer({
    authTokens: token,
    extraArgs: ["--no-relay", "--no-dns", "--dht-bootstrap", `127.0.0.1:${port}`],
  });
  const warned = await waitFor(
    () => server.lines().concat(server.stderr().split("\n")).find((l) => /DHT/.test(l)),
    15_000,
  );
  assert.ok(warned, server.lines().join("\n") + server.stderr());
  await using echo = startTcpEchoServer();
  await using client = await startClient({
    serverNodeId: server.endpointId,
    serverAddr: server.addr,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
  });
  const { sent, received } = await transferPayload(client.localPort, 64 << 10);
  assert.equal(received.sha256, sent.sha256);
});

/** The address of the status view a process prints (the line may follow its ready line). */
async function statusAddressOf(lines: () => string[]): Promise<string> {
  const line = await waitFor(
    () => lines().find((l) => l.startsWith("Status: tunnel status ")),
    10_000,
  );
  assert.ok(line, lines().join("\n"));
  return line.replace("Status: tunnel status ", "");
}

async function waitFor<T>(find: () => T | undefined, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** The first start that succeeds within `ms` (a mirror's put is under way meanwhile). */
async function retryUntil<T>(start: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await start();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
