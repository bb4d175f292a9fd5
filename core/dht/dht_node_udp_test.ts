/** Several of our nodes on real loopback UDP sockets. */
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type DhtNode, startDhtNode } from "./dht_node.ts";
import { signMutableItem } from "./mutable_item.ts";

Deno.test("7 nodes on loopback UDP: bootstraps by host name, put and get well under a second", async () => {
  const nodes: DhtNode[] = [];
  const resolved: string[] = [];
  try {
    const first = await startDhtNode({ bootstrap: [], bind: { hostname: "127.0.0.1", port: 0 } });
    nodes.push(first);
    for (let i = 0; i < 5; i++) {
      nodes.push(
        await startDhtNode({
          // A name, resolved once by the injected resolver (no DNS traffic from a test).
          bootstrap: [{ hostname: "bootstrap.dht.test", port: first.localAddress.port }],
          bind: { hostname: "127.0.0.1", port: 0 },
          resolveHost: (name) => {
            resolved.push(name);
            return Promise.resolve(["127.0.0.1"]);
          },
        }),
      );
    }
    // One more through "localhost" and the system resolver (/etc/hosts, no DNS traffic).
    nodes.push(
      await startDhtNode({
        bootstrap: [{ hostname: "localhost", port: first.localAddress.port }],
        bind: { hostname: "127.0.0.1", port: 0 },
      }),
    );
    for (const node of nodes.slice(1)) assert.ok(await node.bootstrap() >= 1);
    assert.ok(nodes.every((node) => node.localAddress.port > 0));
    const started = performance.now();
    const secret = ed25519.utils.randomSecretKey();
    const item = signMutableItem(secret, BigInt(Date.now()) * 1000n, new Uint8Array(900).fill(7));
    const { stored } = await nodes[3].putMutable(item);
    assert.ok(stored >= 3, `stored by ${stored}`);
    const found = await nodes[6].getMutable(item.publicKey);
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(found?.value, item.value);
    await nodes[1].getMutable(item.publicKey);
    // Each node resolved the bootstrap name once, however many lookups it ran.
    assert.equal(resolved.length, 5);
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
});

Deno.test("20 nodes on loopback joining at once, then a put and a get", async () => {
  const nodes: DhtNode[] = [];
  try {
    const first = await startDhtNode({ bootstrap: [], bind: { hostname: "127.0.0.1", port: 0 } });
    nodes.push(first);
    for (let i = 0; i < 19; i++) {
      nodes.push(
        await startDhtNode({
          bootstrap: [first.localAddress],
          bind: { hostname: "127.0.0.1", port: 0 },
        }),
      );
    }
    const started = performance.now();
    const sizes = await Promise.all(nodes.slice(1).map((node) => node.bootstrap()));
    // The earliest joiners found few others yet; the rest found many.
    assert.ok(sizes.every((size) => size >= 1), `table sizes ${sizes}`);
    assert.ok(sizes.filter((size) => size >= 8).length >= 10, `table sizes ${sizes}`);
    const item = signMutableItem(
      ed25519.utils.randomSecretKey(),
      1n,
      new TextEncoder().encode("x"),
    );
    assert.ok((await nodes[4].putMutable(item)).stored >= 4);
    assert.equal((await nodes[15].getMutable(item.publicKey))?.seq, 1n);
    assert.ok(performance.now() - started < 2000, `${Math.round(performance.now() - started)} ms`);
  } finally {
    await Promise.all(nodes.map((node) => node.close()));
  }
});
