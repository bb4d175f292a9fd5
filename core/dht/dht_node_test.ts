import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { DhtError, type DhtNode, type DhtNodeOptions, startDhtNode } from "./dht_node.ts";
import { MemoryDhtNetwork } from "./dht_socket.ts";
import { decodeKrpc, encodeQuery } from "./krpc.ts";
import { signMutableItem } from "./mutable_item.ts";
import { toHex } from "./node_id.ts";

const encoder = new TextEncoder();

/** `count` full nodes on one in-memory network, the first being everyone's bootstrap. */
async function memoryDht(count: number, options: Partial<DhtNodeOptions> = {}) {
  const network = new MemoryDhtNetwork();
  const nodes: DhtNode[] = [];
  const first = await startDhtNode({
    bootstrap: [],
    socket: network.socket(),
    queryTimeoutMs: 300,
    ...options,
  });
  nodes.push(first);
  for (let i = 1; i < count; i++) {
    nodes.push(
      await startDhtNode({
        bootstrap: [first.localAddress],
        socket: network.socket(),
        queryTimeoutMs: 300,
        ...options,
      }),
    );
  }
  for (const node of nodes.slice(1)) await node.bootstrap();
  return {
    network,
    nodes,
    async close() {
      await Promise.all(nodes.map((node) => node.close()));
    },
  };
}

Deno.test("30 nodes in memory: bootstrap, a put from one, a get from another", async () => {
  const dht = await memoryDht(30);
  try {
    for (const node of dht.nodes.slice(1)) assert.ok(node.size >= 1, "every node knows some");
    const secret = ed25519.utils.randomSecretKey();
    const item = signMutableItem(secret, 1_000n, encoder.encode("hello pkarr"));
    const started = performance.now();
    const { stored } = await dht.nodes[5].putMutable(item);
    assert.ok(stored >= 4, `stored by ${stored}`);
    const found = await dht.nodes[22].getMutable(item.publicKey);
    assert.ok(performance.now() - started < 1000, "put and get well under a second");
    assert.ok(found);
    assert.equal(found.seq, 1_000n);
    assert.deepEqual(found.value, item.value);
    assert.deepEqual(found.signature, item.signature);

    // A newer seq replaces it; the get returns the highest.
    const newer = signMutableItem(secret, 2_000n, encoder.encode("newer"));
    await dht.nodes[9].putMutable(newer);
    assert.equal((await dht.nodes[17].getMutable(item.publicKey))?.seq, 2_000n);
    // The first found is some valid one.
    const first = await dht.nodes[3].getMutable(item.publicKey, { first: true });
    assert.ok(first && first.seq >= 1_000n);
    // A key nobody stored: undefined.
    const other = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    assert.equal(await dht.nodes[4].getMutable(other), undefined);
  } finally {
    await dht.close();
  }
});

Deno.test("a salted item lives at its own target", async () => {
  const dht = await memoryDht(8);
  try {
    const secret = ed25519.utils.randomSecretKey();
    const salt = encoder.encode("salt");
    const item = signMutableItem(secret, 7n, encoder.encode("salted"), salt);
    await dht.nodes[1].putMutable(item);
    assert.equal((await dht.nodes[2].getMutable(item.publicKey, { salt }))?.seq, 7n);
    assert.equal(await dht.nodes[2].getMutable(item.publicKey), undefined);
  } finally {
    await dht.close();
  }
});

Deno.test("read-only nodes get and put but enter no one's table and answer no query", async () => {
  const dht = await memoryDht(10);
  const readOnly = await startDhtNode({
    bootstrap: [dht.nodes[0].localAddress],
    socket: dht.network.socket(),
    readOnly: true,
    queryTimeoutMs: 300,
  });
  try {
    assert.ok(await readOnly.bootstrap() >= 5);
    const secret = ed25519.utils.randomSecretKey();
    const item = signMutableItem(secret, 3n, encoder.encode("from behind NAT"));
    assert.ok((await readOnly.putMutable(item)).stored >= 1);
    assert.equal((await dht.nodes[6].getMutable(item.publicKey))?.seq, 3n);
    // The probe works: a full node's id is found in the tables.
    assert.ok(await probeTable(dht.network, dht.nodes[0], dht.nodes[7].id));
    // Everyone else refreshes their view; the read-only node is in no table.
    for (const node of dht.nodes) await node.bootstrap();
    const roId = toHex(readOnly.id);
    for (const node of dht.nodes) {
      const probe = await probeTable(dht.network, node, readOnly.id);
      assert.ok(!probe, `node ${toHex(node.id)} holds read-only ${roId}`);
    }
  } finally {
    await readOnly.close();
    await dht.close();
  }
});

/** Whether `node` answers find_node(`id`) with a node of that id (asked by a raw socket). */
async function probeTable(
  network: MemoryDhtNetwork,
  node: DhtNode,
  id: Uint8Array,
): Promise<boolean> {
  const socket = network.socket();
  try {
    const asker = crypto.getRandomValues(new Uint8Array(20));
    await socket.send(
      encodeQuery(Uint8Array.of(1, 2), asker, { method: "find_node", target: id }, true),
      node.localAddress,
    );
    const [data] = await socket.receive();
    const answer = decodeKrpc(data);
    assert.equal(answer.type, "response");
    return answer.type === "response" &&
      (answer.body.nodes ?? []).some((contact) => toHex(contact.id) === toHex(id));
  } finally {
    socket.close();
  }
}

Deno.test("a bootstrap that does not answer is not fatal; put then throws DhtError", async () => {
  const network = new MemoryDhtNetwork();
  const lonely = await startDhtNode({
    bootstrap: [{ hostname: "10.9.9.9", port: 6881 }, { hostname: "nowhere.invalid", port: 6881 }],
    socket: network.socket(),
    queryTimeoutMs: 100,
    resolveHost: () => Promise.reject(new Error("no such host")),
  });
  try {
    const started = performance.now();
    assert.equal(await lonely.bootstrap(), 0);
    assert.ok(performance.now() - started < 1000);
    const item = signMutableItem(ed25519.utils.randomSecretKey(), 1n, encoder.encode("x"));
    await assert.rejects(() => lonely.putMutable(item), DhtError);
    assert.equal(await lonely.getMutable(item.publicKey), undefined);
  } finally {
    await lonely.close();
  }
});

Deno.test("bucket refresh while open: a node learns of newcomers without a new bootstrap", async () => {
  const network = new MemoryDhtNetwork();
  const hub = await startDhtNode({ bootstrap: [], socket: network.socket(), queryTimeoutMs: 100 });
  const options = { bootstrap: [hub.localAddress], queryTimeoutMs: 100 };
  const refreshing = await startDhtNode({
    ...options,
    socket: network.socket(),
    refreshIntervalMs: 150,
  });
  const idle = await startDhtNode({ ...options, socket: network.socket() });
  const watched = [refreshing, idle].map((node) => node.localAddress.hostname);
  const founders = [hub, refreshing, idle].map((node) => node.localAddress.hostname);
  // Newcomers' queries never reach the two watched nodes: they learn of them only by asking.
  network.filter = (data, from, to) =>
    !(watched.includes(to.hostname) && !founders.includes(from.hostname) &&
      decodeKrpc(data).type === "query");
  const later: DhtNode[] = [];
  try {
    await refreshing.bootstrap();
    await idle.bootstrap();
    for (let i = 0; i < 3; i++) {
      const node = await startDhtNode({ ...options, socket: network.socket() });
      later.push(node);
      await node.bootstrap();
    }
    assert.ok(idle.size <= 2);
    const deadline = Date.now() + 3000;
    while (refreshing.size < 5 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(refreshing.size, 5, "the hub, the idle node and three newcomers");
    assert.ok(idle.size <= 2, "without refresh, no newcomer is learnt");
  } finally {
    await Promise.all([hub, refreshing, idle, ...later].map((node) => node.close()));
  }
});

Deno.test("an isolated node joins by itself once its bootstrap node comes up", async () => {
  const network = new MemoryDhtNetwork();
  const bootstrapAddress = { hostname: "10.5.0.1", port: 6881 };
  const node = await startDhtNode({
    bootstrap: [bootstrapAddress],
    socket: network.socket(),
    queryTimeoutMs: 50,
    refreshIntervalMs: 100,
  });
  let late: DhtNode | undefined;
  try {
    assert.equal(await node.bootstrap(), 0);
    late = await startDhtNode({ bootstrap: [], socket: network.socket(bootstrapAddress) });
    const deadline = Date.now() + 2000;
    while (node.size === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(node.size, 1);
  } finally {
    await node.close();
    await late?.close();
  }
});

Deno.test("a socket that cannot be bound: DhtError naming the address", async () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    await assert.rejects(
      () => startDhtNode({ bootstrap: [], bind: { hostname: "127.0.0.1", port } }),
      (error) => error instanceof DhtError && error.message.includes(`127.0.0.1:${port}`),
    );
  } finally {
    taken.close();
  }
});

Deno.test("an abort rejects with its reason; closing rejects a running lookup with DhtError", async () => {
  const network = new MemoryDhtNetwork();
  const node = await startDhtNode({
    bootstrap: [{ hostname: "10.6.0.1", port: 6881 }], // silent: lookups wait on it
    socket: network.socket(),
    queryTimeoutMs: 1000,
  });
  const key = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  const reason = new Error("user gave up");
  const controller = new AbortController();
  const started = performance.now();
  const get = node.getMutable(key, { signal: controller.signal });
  setTimeout(() => controller.abort(reason), 50);
  await assert.rejects(get, (error) => error === reason);
  assert.ok(performance.now() - started < 500, "the abort ends the wait at once");
  const pending = node.bootstrap();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await node.close();
  await assert.rejects(pending, DhtError);
});

Deno.test("options out of range are refused with one line, before a socket is bound", async () => {
  for (
    const [options, text] of [
      [{ refreshIntervalMs: 0 }, "refreshIntervalMs must be a positive number, got 0"],
      [{ queryTimeoutMs: NaN }, "queryTimeoutMs"],
      [{ rateLimit: { perSecond: -1, burst: 1 } }, "rateLimit.perSecond"],
      [{ nodeId: new Uint8Array(3) }, "node id must be 20 bytes"],
      [{ bootstrap: [{ hostname: "127.0.0.1", port: 0 }] }, "bootstrap port 0"],
    ] as const
  ) {
    await assert.rejects(
      () => startDhtNode({ bootstrap: [], ...options, bind: { hostname: "127.0.0.1", port: 1 } }),
      (error) =>
        error instanceof DhtError && error.message.includes(text) && !error.message.includes("\n"),
    );
  }
});
