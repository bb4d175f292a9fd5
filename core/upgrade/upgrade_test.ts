import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { memoryConnectionPair } from "../transport/mod.ts";
import { FramedStream, SessionPaths } from "../tunnel/mod.ts";
import { answerUpgrades, keepUpgrading, type UpgradeOptions } from "./upgrade.ts";

const ALPN = "upgrade-test/1";

/** Two ends of a session whose first path is an in-memory "relay". */
async function relayedSession() {
  const [a, b] = memoryConnectionPair();
  const opened = a.openStream();
  const accepted = b.acceptStream();
  const clientStream = new FramedStream(await opened);
  await clientStream.write({ type: "path-hello", kind: "relay", label: "memory" });
  const serverStream = new FramedStream((await accepted)!);
  assert.equal((await serverStream.read())?.type, "path-hello");
  const client = new SessionPaths(a, clientStream, { kind: "relay", label: "memory" });
  const server = new SessionPaths(b, serverStream, { kind: "relay", label: "memory" });
  return { client, server };
}

async function until(what: string, check: () => boolean, ms = 15_000) {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "hole punching: a relayed session gains a direct QUIC path, loses it, and regains it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const key = SecretKey.generate();
    const { client, server } = await relayedSession();
    const lines: string[] = [];
    const joined: string[] = [];
    const options: UpgradeOptions = {
      stunServers: [],
      hostAddresses: ["127.0.0.1"],
      alpn: ALPN,
      log: { debug: (l) => lines.push(l), warn: (l) => lines.push(`warn ${l}`) },
      onJoined: (path) => joined.push(`${path.method} ${path.label}`),
    };
    const answering = answerUpgrades(server, key, options);
    const upgrader = keepUpgrading(client, key.endpointId, options);
    try {
      const direct = () =>
        client.paths().some((p) => p.kind === "direct" && p.live) &&
        server.paths().some((p) => p.kind === "direct");
      await until("a direct path", direct);
      assert.equal(client.conn.currentPath?.kind, "direct");
      // New streams take the direct path; the server sees them on its session.
      const out = await client.conn.openStream();
      const writer = out.writable.getWriter();
      const incoming = server.conn.acceptStream();
      await writer.write(new TextEncoder().encode("direct"));
      const reader = (await incoming)!.readable.getReader();
      assert.deepEqual(new TextDecoder().decode((await reader.read()).value), "direct");
      await writer.close();

      // The direct connection dies: the relay carries new traffic, then a new direct path joins.
      const directPath = client.paths().find((p) => p.kind === "direct")!;
      client.conn.connectionOf(directPath.id)!.close({ code: 0, reason: "cut" });
      await until("back on the relay", () => client.conn.currentPath?.kind === "relay");
      await until("direct again", direct);
      assert.ok(lines.some((l) => l.includes("direct path lost")), lines.join("\n"));
      // Both sides said how each path was punched (plain ICE on loopback), twice each.
      await until("four joins reported", () => joined.length === 4);
      assert.ok(joined.every((j) => /^host 127\.0\.0\.1:\d+$/.test(j)), joined.join("\n"));
    } finally {
      upgrader.stop();
      client.conn.close();
      server.conn.close();
      await answering;
      await upgrader.done;
    }
  },
});

Deno.test("hole punching: a forged join is refused and the session stays relayed", async () => {
  const { client, server } = await relayedSession();
  const key = SecretKey.generate();
  const warnings: string[] = [];
  const answering = answerUpgrades(server, key, {
    stunServers: [],
    hostAddresses: ["127.0.0.1"],
    alpn: ALPN,
    log: { debug: (l) => warnings.push(l), warn: (l) => warnings.push(l) },
  });
  // A malformed offer is answered with nothing and logged; the loop goes on.
  await client.signal({ type: "path-offer", body: new TextEncoder().encode("garbage") });
  await until("the refusal logged", () => warnings.length > 0, 5_000);
  assert.match(warnings[0], /hole punching failed: not a path signal/);
  assert.equal(server.paths().length, 1);
  client.conn.close();
  await answering;
});
