// Regression tests for faults a hostile or unlucky peer could cause: a session
// slot held by an idle peer, dead peers noticed late, floods of TCP connections
// and UDP flows, and what the client says when the server cannot reach the source.
import assert from "node:assert/strict";
import { FramedStream } from "../../core/tunnel/mod.ts";
import {
  dialServer,
  freePort,
  startClient,
  startTcpEchoServer,
  startUdpEchoServer,
  transferPayload,
} from "../harness/mod.ts";
import { openTunnel, rssBytes, type Tunnel } from "./_fixtures.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it holds or `ms` pass; returns the time taken. */
async function within(ms: number, what: string, check: () => boolean | Promise<boolean>) {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
  return performance.now() - started;
}

/** Open file descriptors of a process (`ls`, since Deno reads /proc only with -A). */
async function openFds(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ls", { args: [`/proc/${pid}/fd`], stderr: "null" })
    .output();
  return new TextDecoder().decode(stdout).trim().split("\n").length;
}

/** Another client of `tunnel`'s server, for `source`. */
function anotherClient(tunnel: Tunnel, source: string) {
  return startClient({
    serverNodeId: tunnel.server.endpointId,
    serverAddr: tunnel.server.addr,
    source,
    authToken: tunnel.token,
  });
}

/** A 64 KiB transfer through `client` comes back intact. */
async function assertCarries(client: { localPort: number }) {
  const { sent, received } = await transferPayload(client.localPort, 1 << 16);
  assert.equal(received.sha256, sent.sha256);
}

Deno.test("an authenticated peer that never asks for a source loses its slot within 5 s", async () => {
  await using echo = startTcpEchoServer();
  await using tunnel = await openTunnel(`tcp://127.0.0.1:${echo.port}`, { maxSessions: 2 });
  // One slot is the tunnel's; the idle peer takes the other.
  const idle = await dialServer(tunnel.server);
  const auth = new FramedStream(await idle.openStream());
  await auth.write({ type: "auth-request", credential: new TextEncoder().encode(tunnel.token) });
  await auth.closeWrite();
  assert.equal((await auth.read())?.type, "auth-response");
  const started = performance.now();
  const closed = await idle.closed;
  const elapsed = performance.now() - started;
  assert.match(closed.reason, /no source request in time/);
  assert.ok(elapsed < 6_500, `closed after ${elapsed.toFixed(0)} ms`);
  // The slot is free again: a second client gets in.
  await using second = await anotherClient(tunnel, `tcp://127.0.0.1:${echo.port}`);
  await assertCarries(second);
});

Deno.test("kill -9 of the server: with --no-reconnect the client says so and exits within 10 s", async () => {
  await using echo = startTcpEchoServer();
  await using tunnel = await openTunnel(`tcp://127.0.0.1:${echo.port}`, {}, {
    extraArgs: ["--no-reconnect"],
  });
  tunnel.server.process.kill("SIGKILL");
  const started = performance.now();
  const status = await tunnel.client.process.status;
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 10_000, `noticed after ${elapsed.toFixed(0)} ms`);
  assert.equal(status.code, 1);
  assert.match(tunnel.client.stderr(), /Error: Connection to the server lost/);
  // Nothing listens any more: a new local connection is refused at once, not left hanging.
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: tunnel.client.localPort }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("kill -9 of a client: the server frees its slot within 15 s", async () => {
  await using echo = startTcpEchoServer();
  await using tunnel = await openTunnel(`tcp://127.0.0.1:${echo.port}`, { maxSessions: 1 });
  tunnel.client.process.kill("SIGKILL");
  const elapsed = await within(
    15_000,
    "session closed",
    () => tunnel.server.lines().some((line) => /session closed|timed out|lost|in time/.test(line)),
  );
  assert.ok(elapsed < 10_000, `server noticed after ${elapsed.toFixed(0)} ms`);
  await using next = await anotherClient(tunnel, `tcp://127.0.0.1:${echo.port}`);
  await assertCarries(next);
});

Deno.test("the client prints why the server could not reach the source, once for many", async () => {
  const closedPort = freePort();
  await using tunnel = await openTunnel(`tcp://127.0.0.1:${closedPort}`);
  for (let i = 0; i < 5; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tunnel.client.localPort });
    // The client closes the local connection once the server says it failed.
    const n = await conn.read(new Uint8Array(16)).catch(() => null);
    assert.equal(n, null);
    conn.close();
  }
  const said = tunnel.client.stderr().split("\n").filter((l) => /could not open it/.test(l));
  assert.equal(said.length, 1, tunnel.client.stderr());
  assert.match(
    said[0],
    new RegExp(`cannot connect to the source 127\\.0\\.0\\.1:${closedPort}: connection refused`),
  );
  // Per-connection lines only with -v.
  assert.ok(!tunnel.client.lines().some((l) => /connection from .* (opened|closed \()/.test(l)));
});

Deno.test("a flood of TCP connections in one session is capped, refused with a reason, and bounded", async () => {
  await using echo = startTcpEchoServer();
  await using tunnel = await openTunnel(`tcp://127.0.0.1:${echo.port}`);
  const serverPid = tunnel.server.process.pid;
  const fdsBefore = await openFds(serverPid);
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: tunnel.client.localPort }));
    }
    // Each connection says something so the server has dialed the source for it.
    await Promise.all(conns.map((c) => c.write(Uint8Array.of(1)).catch(() => 0)));
    await within(
      10_000,
      "refusals printed",
      () => /too many connections in this session \(limit 256\)/.test(tunnel.client.stderr()),
    );
    const fds = await openFds(serverPid);
    // Two sockets per forwarded connection at most (the source's, and none for QUIC streams).
    assert.ok(fds - fdsBefore <= 256 + 10, `server holds ${fds - fdsBefore} more descriptors`);
    const lines = tunnel.client.stderr().split("\n").filter((l) => /too many connections/.test(l));
    assert.equal(lines.length, 1, "one line for alike refusals");
  } finally {
    conns.forEach((c) => c.close());
  }
  await within(
    10_000,
    "descriptors released",
    async () => (await openFds(serverPid)) <= fdsBefore + 5,
  );
});

Deno.test("UDP flows across sessions stay bounded and are all released after the load", async () => {
  await using echo = startUdpEchoServer();
  const statusAddr = `127.0.0.1:${freePort()}`;
  await using tunnel = await openTunnel(`udp://127.0.0.1:${echo.port}`, {
    extraArgs: ["--status", statusAddr],
  });
  const serverPid = tunnel.server.process.pid;
  const extra = await Promise.all(
    [0, 1].map(() => anotherClient(tunnel, `udp://127.0.0.1:${echo.port}`)),
  );
  const clients = [tunnel.client, ...extra];
  const rssBefore = (await rssBytes(serverPid))!;
  const fdsBefore = await openFds(serverPid);
  const PEERS = 1_100;
  let peak = 0;
  let peakFlows = 0;
  try {
    for (const client of clients) {
      const sockets = Array.from(
        { length: PEERS },
        () => Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
      );
      const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: client.localPort };
      for (const socket of sockets) await socket.send(Uint8Array.of(1, 2, 3), to);
      await sleep(1_000);
      peak = Math.max(peak, await openFds(serverPid));
      peakFlows = Math.max(peakFlows, (await udpFlows(statusAddr)).active);
      sockets.forEach((s) => s.close());
    }
    const rssLoaded = (await rssBytes(serverPid))!;
    // Per session at most 1,024 flows, each one socket; the three sessions are
    // one client (one token, one address), which holds at most a quarter of
    // the server's 4,096 flows.
    assert.ok(
      peak - fdsBefore <= 3 * 1_024 + 10,
      `server held ${peak - fdsBefore} more descriptors`,
    );
    assert.ok(peakFlows > 0 && peakFlows <= 1_024, `server held ${peakFlows} flows`);
    // Each flow's buffer is 4 KiB until it carries a larger datagram: 64 KiB
    // buffers for these flows would take ~200 MiB.
    assert.ok(
      rssLoaded - rssBefore < 120 << 20,
      `server RSS grew ${((rssLoaded - rssBefore) / 2 ** 20).toFixed(0)} MiB`,
    );
    const output = [...tunnel.server.lines(), ...tunnel.server.stderr().split("\n")];
    assert.ok(
      output.filter((l) => /UDP flows are at their/.test(l)).length <= 3,
      "flow-limit lines are summarised",
    );
  } finally {
    for (const client of extra) await client.stop();
  }
  await tunnel.client.stop();
  // The sessions' flows are closed with them: none is counted, no socket is left.
  // (These, not RSS, say the memory is released: when V8 and the allocator give
  // freed memory back to the system is theirs to decide.)
  await within(15_000, "flows released", async () => (await udpFlows(statusAddr)).active === 0);
  await within(15_000, "descriptors released", async () => (await openFds(serverPid)) <= fdsBefore);
  // Nothing grows after the load: the server stays within the loaded bound.
  const rssAfter = (await rssBytes(serverPid))!;
  assert.ok(
    rssAfter - rssBefore < 120 << 20,
    `server RSS stayed ${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB above its start`,
  );
});

/** The server's UDP flow pool, from its status view. */
async function udpFlows(statusAddr: string): Promise<{ active: number; max: number }> {
  // No kept-alive connection: it would hold a descriptor of the server's.
  using client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const document = await (await fetch(`http://${statusAddr}/status`, { client })).json();
  assert.ok(document.pools, "the status view shows the server's pools");
  return document.pools.udpFlows;
}
