import assert from "node:assert/strict";
import { createRelayServer } from "./server.ts";
import { servePlainHttp } from "./serve_relay.ts";

/** Whether the server closes `conn` within `ms` (a read returns end of stream or fails). */
async function closedWithin(conn: Deno.Conn, ms: number): Promise<boolean> {
  const timer = new Promise<"open">((resolve) => setTimeout(() => resolve("open"), ms));
  const read = conn.read(new Uint8Array(16)).then(() => "closed" as const, () => "closed" as const);
  return (await Promise.race([read, timer])) === "closed";
}

Deno.test("plain HTTP listener: its connections count against the relay's connection limit", async () => {
  const relay = createRelayServer({ limits: { connections: 2, connectionsPerAddress: 2 } });
  const plain = await servePlainHttp(relay, { hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      conns.push(await Deno.connect({ hostname: "127.0.0.1", port: plain.port }));
    }
    // The third is over the limit of 2: closed before a byte is read.
    assert.equal(await closedWithin(conns[2], 2_000), true);
    assert.equal(await closedWithin(conns[0], 200), false);
    assert.equal(relay.metrics.refusals.admission, 1);
    // A place given back (a connection closed) admits the next one.
    conns[0].close();
    conns.shift();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answer = await fetch(`http://127.0.0.1:${plain.port}/generate_204`);
    assert.equal(answer.status, 204);
    await answer.body?.cancel();
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed by the server */ }
    }
    relay.close();
    await plain.shutdown();
  }
});

Deno.test("plain HTTP listener: no TLS to reload", async () => {
  const relay = createRelayServer();
  await using plain = await servePlainHttp(relay, { hostname: "127.0.0.1", port: 0 });
  assert.throws(() => plain.reloadTls({ cert: "", key: "" }), /plain HTTP/);
  relay.close();
});
