// A server's pools under hostile load: a flood of connections that finish the
// QUIC handshake and never authenticate, and one token holder taking as many
// sessions and connections as it can. Others must still get in, and the
// server's memory and counts must come back once the load ends.
//
// The hostile peers dial the server's own UDP port from loopback addresses of
// their own (127.0.0.2 and up), so these run on the direct path only.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { EndpointId } from "../../core/identity/mod.ts";
import { dialQuic, type PeerConnection } from "../../core/transport/mod.ts";
import { ALPN, FramedStream, openClientSession } from "../../core/tunnel/mod.ts";
import {
  freePort,
  startClient,
  startServer,
  startTcpEchoServer,
  testPath,
  transferPayload,
  type TunnelServer,
} from "../harness/mod.ts";
import { rssBytes } from "./_fixtures.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1 << 20;
const directOnly = testPath() === "relay";

/** Dials `server` from the loopback address `from`. */
function dialFrom(server: TunnelServer, endpoint: Deno.QuicEndpoint): Promise<PeerConnection> {
  const i = server.addr.lastIndexOf(":");
  return dialQuic({
    addrs: [{ hostname: server.addr.slice(0, i), port: Number(server.addr.slice(i + 1)) }],
    endpointId: EndpointId.parse(server.endpointId),
    alpn: ALPN,
    endpoint,
    timeoutMs: 5_000,
  });
}

interface Pools {
  unauthenticated: { active: number };
  sessions: { active: number };
  tcpConnections: { active: number };
}

async function pools(statusAddr: string): Promise<Pools> {
  const response = await fetch(`http://${statusAddr}/status`);
  const document = await response.json();
  assert.ok(document.pools, "the status view shows the server's pools");
  return document.pools;
}

Deno.test({
  name:
    "handshakes that never authenticate, 200 at a time from 20 addresses: memory and the count come back",
  ignore: directOnly,
  async fn() {
    const statusAddr = `127.0.0.1:${freePort()}`;
    const token = generateToken();
    await using server = await startServer({
      authTokens: token,
      extraArgs: ["--status", statusAddr],
    });
    const pid = server.process.pid;
    const base = (await rssBytes(pid))!;
    const endpoints = Array.from(
      { length: 20 },
      (_, i) => new Deno.QuicEndpoint({ hostname: `127.0.0.${i + 2}`, port: 0 }),
    );
    const FLOOD_MS = 15_000;
    const SETTLE_MS = 7_000;
    const until = Date.now() + FLOOD_MS;
    let peak = base;
    let handshakes = 0;
    const sampler = setInterval(async () => {
      peak = Math.max(peak, (await rssBytes(pid)) ?? 0);
    }, 250);
    // Each worker holds one connection that never authenticates, and makes a
    // new one as soon as the server drops it.
    const worker = async (endpoint: Deno.QuicEndpoint) => {
      while (Date.now() < until) {
        try {
          const conn = await dialFrom(server, endpoint);
          handshakes++;
          await Promise.race([conn.closed, sleep(Math.max(0, until - Date.now()))]);
          conn.close();
        } catch {
          await sleep(20);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 200 }, (_, i) => worker(endpoints[i % 20])));
    } finally {
      clearInterval(sampler);
      endpoints.forEach((e) => e.close());
    }
    assert.ok(handshakes > 100, `the flood completed only ${handshakes} handshakes`);
    // Every connection of the flood has met its auth deadline (5 s) after this.
    await sleep(SETTLE_MS);
    const settled = (await rssBytes(pid))!;
    const grew = (bytes: number) => `${((bytes - base) / MiB).toFixed(0)} MiB`;
    console.log(
      `flood: ${handshakes} handshakes in ${FLOOD_MS / 1000} s; server RSS ${
        (base / MiB).toFixed(0)
      } MiB at start, peak +${grew(peak)}, +${grew(settled)} ${SETTLE_MS / 1000} s after`,
    );
    // Unbounded, this flood grew the server by 400-800 MiB, and it stayed.
    assert.ok(peak - base < 200 * MiB, `server RSS peaked ${grew(peak)} above its start`);
    assert.ok(settled - base < 140 * MiB, `server RSS settled ${grew(settled)} above its start`);
    // The count behind it, which does not depend on the allocator: none is left.
    const started = performance.now();
    while ((await pools(statusAddr)).unauthenticated.active > 0) {
      assert.ok(performance.now() - started < 5_000, "unauthenticated connections remain");
      await sleep(250);
    }
    // Alike refusals are summarised: a line per reason per 10 s, not one per connection.
    const refusals = server.lines().filter((l) => /refused|failed/.test(l));
    assert.ok(refusals.length <= 20, `${refusals.length} refusal lines:\n${refusals.join("\n")}`);
    // And an honest client gets in afterwards.
    const echo = startTcpEchoServer();
    try {
      await using client = await startClient({
        serverNodeId: server.endpointId,
        serverAddr: server.addr,
        source: `tcp://127.0.0.1:${echo.port}`,
        authToken: token,
      });
      const { sent, received } = await transferPayload(client.localPort, 1 << 16);
      assert.equal(received.sha256, sent.sha256);
    } finally {
      await echo[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name: "one token from one address holds at most its share of sessions; another client gets in",
  ignore: directOnly,
  async fn() {
    await using echo = startTcpEchoServer();
    const [greedy, honest] = [generateToken(), generateToken()];
    await using server = await startServer({ authTokens: [greedy, honest], maxSessions: 8 });
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.2", port: 0 });
    const held: PeerConnection[] = [];
    const refusals: string[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const conn = await dialFrom(server, endpoint);
        try {
          const session = await openClientSession(
            conn,
            new TextEncoder().encode(greedy),
            `tcp://127.0.0.1:${echo.port}`,
          );
          held.push(session.conn);
        } catch (error) {
          refusals.push((error as Error).message);
          conn.close();
        }
      }
      // A quarter of 8, but at least 4.
      assert.equal(held.length, 4, refusals.join("\n"));
      assert.match(
        refusals[0],
        /^server refused the session: this client .*share of the server's sessions \(4 of 8\); close one or try again later$/,
      );
      const logged = server.lines().filter((l) => /share of the server's sessions/.test(l));
      assert.equal(logged.length, 1, `alike refusals summarised:\n${logged.join("\n")}`);
      await using client = await startClient({
        serverNodeId: server.endpointId,
        serverAddr: server.addr,
        source: `tcp://127.0.0.1:${echo.port}`,
        authToken: honest,
      });
      const { sent, received } = await transferPayload(client.localPort, 1 << 16);
      assert.equal(received.sha256, sent.sha256);
    } finally {
      held.forEach((c) => c.close());
      endpoint.close();
    }
  },
});

Deno.test({
  name:
    "one token from one address holds at most a quarter of the server's TCP connections; another client forwards",
  ignore: directOnly,
  async fn() {
    await using echo = startTcpEchoServer();
    const [greedy, honest] = [generateToken(), generateToken()];
    const statusAddr = `127.0.0.1:${freePort()}`;
    await using server = await startServer({
      authTokens: [greedy, honest],
      extraArgs: ["--status", statusAddr],
    });
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.2", port: 0 });
    const held: PeerConnection[] = [];
    const streams: FramedStream[] = [];
    let connected = 0;
    let refusal = "";
    try {
      // 17 sessions of 256 connections each would take all 4,096.
      for (let s = 0; s < 17; s++) {
        const conn = await dialFrom(server, endpoint);
        const session = await openClientSession(
          conn,
          new TextEncoder().encode(greedy),
          `tcp://127.0.0.1:${echo.port}`,
        );
        held.push(session.conn);
        const results = await Promise.all(Array.from({ length: 256 }, async (_, pipeId) => {
          const framed = new FramedStream(await session.conn.openStream());
          // Held, or a collected stream would be reset and give its slot back.
          streams.push(framed);
          await framed.write({ type: "tcp-open", pipeId });
          const result = await framed.read();
          return result?.type === "tcp-result" ? result : undefined;
        }));
        for (const result of results) {
          if (result?.connected) connected++;
          else if (result) refusal = result.reason;
        }
      }
      assert.equal(connected, 1_024, `the greedy client holds ${connected} connections`);
      assert.match(refusal, /TCP connections are at their share of one client, 1024 of 4096/);
      assert.equal((await pools(statusAddr)).tcpConnections.active, 1_024);
      const lines = server.lines().filter((l) => /share of one client/.test(l));
      assert.ok(lines.length <= 2, `alike refusals summarised:\n${lines.join("\n")}`);
      await using client = await startClient({
        serverNodeId: server.endpointId,
        serverAddr: server.addr,
        source: `tcp://127.0.0.1:${echo.port}`,
        authToken: honest,
      });
      const { sent, received } = await transferPayload(client.localPort, 1 << 16);
      assert.equal(received.sha256, sent.sha256);
    } finally {
      streams.forEach((s) => s.abort());
      held.forEach((c) => c.close());
      endpoint.close();
    }
  },
});
