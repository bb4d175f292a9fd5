/** A node against an anonymous peer that sends what it likes (in memory, no sockets). */
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type BencodeValue, encodeBencode } from "./bencode.ts";
import { type DhtNode, type DhtNodeOptions, startDhtNode } from "./dht_node.ts";
import { type DhtSocket, MemoryDhtNetwork } from "./dht_socket.ts";
import {
  decodeKrpc,
  type DhtPeerAddress,
  encodeQuery,
  encodeResponse,
  type KrpcMessage,
  type KrpcQuery,
  type NodeContact,
} from "./krpc.ts";
import { signMutableItem } from "./mutable_item.ts";
import { immutableTarget, mutableTarget } from "./mutable_item.ts";

const encoder = new TextEncoder();
const randomId = () => crypto.getRandomValues(new Uint8Array(20));

/** A raw KRPC peer: sends datagrams, reads what comes back within a short wait. */
class RawPeer {
  readonly id = randomId();
  #next = 0;
  constructor(readonly socket: DhtSocket) {}

  async ask(
    datagram: Uint8Array,
    to: DhtPeerAddress,
    waitMs = 100,
  ): Promise<KrpcMessage | undefined> {
    await this.socket.send(datagram, to);
    return await this.read(waitMs);
  }

  query(
    query: Exclude<KrpcQuery, { method: "unknown" }>,
    to: DhtPeerAddress,
    id: Uint8Array = this.id,
  ) {
    const t = Uint8Array.of(0xee, this.#next++ & 0xff);
    return this.ask(encodeQuery(t, id, query), to);
  }

  /** One receive at a time, kept across reads that timed out, so no datagram is lost. */
  #receiving?: Promise<KrpcMessage | undefined>;

  async read(waitMs = 100): Promise<KrpcMessage | undefined> {
    this.#receiving ??= this.socket.receive().then(([data]) => decodeKrpc(data), () => undefined)
      .finally(() => this.#receiving = undefined);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<undefined>((resolve) =>
      timer = setTimeout(() => resolve(undefined), waitMs)
    );
    try {
      return await Promise.race([this.#receiving, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function withNode(
  test: (node: DhtNode, peer: RawPeer, network: MemoryDhtNetwork) => Promise<void>,
  options: Partial<DhtNodeOptions> = {},
) {
  const network = new MemoryDhtNetwork();
  const node = await startDhtNode({
    bootstrap: [],
    socket: network.socket(),
    queryTimeoutMs: 200,
    ...options,
  });
  const peer = new RawPeer(network.socket());
  try {
    await test(node, peer, network);
  } finally {
    peer.socket.close();
    await node.close();
  }
}

const bytes = (text: string) => encoder.encode(text);
const dict = (entries: [string, BencodeValue][]) => new Map(entries);

Deno.test("hostile: garbage gets nothing or a 203; the node keeps answering", () =>
  withNode(async (node, peer) => {
    for (
      const garbage of [
        new Uint8Array(0),
        bytes("not bencode"),
        bytes("i42e"),
        new Uint8Array(500).fill(0x6c),
      ]
    ) {
      assert.equal(await peer.ask(garbage, node.localAddress, 30), undefined);
    }
    // A query whose arguments are wrong, with a readable transaction id: a protocol error.
    const badQuery = encodeBencode(
      dict([["a", dict([["id", bytes("short")]])], ["q", bytes("ping")], ["t", bytes("zz")], [
        "y",
        bytes("q"),
      ]]),
    );
    const answer = await peer.ask(badQuery, node.localAddress);
    assert.equal(answer?.type === "error" && answer.code, 203);
    assert.equal((await peer.query({ method: "ping" }, node.localAddress))?.type, "response");
  }));

Deno.test("hostile: oversized datagrams are dropped unanswered", () =>
  withNode(async (node, peer) => {
    const padded = encodeBencode(
      dict([
        ["a", dict([["id", peer.id], ["pad", new Uint8Array(3000)]])],
        ["q", bytes("ping")],
        ["t", bytes("aa")],
        ["y", bytes("q")],
      ]),
    );
    assert.equal(await peer.ask(padded, node.localAddress), undefined);
  }));

Deno.test("hostile: a flood from one IP is answered up to the rate limit; others still are", () =>
  withNode(async (node, peer, network) => {
    const ping = encodeQuery(bytes("fl"), peer.id, { method: "ping" });
    for (let i = 0; i < 500; i++) await peer.socket.send(ping, node.localAddress);
    let answers = 0;
    while (await peer.read(50)) answers++;
    assert.ok(answers >= 10 && answers <= 20, `${answers} answers to 500 pings`);
    const other = new RawPeer(network.socket());
    try {
      assert.equal((await other.query({ method: "ping" }, node.localAddress))?.type, "response");
    } finally {
      other.socket.close();
    }
  }, { rateLimit: { perSecond: 5, burst: 10 } }));

Deno.test("hostile: the rate limit counts an IP's ports together, but loopback ports apart", async () => {
  const network = new MemoryDhtNetwork();
  const node = await startDhtNode({
    bootstrap: [],
    socket: network.socket({ hostname: "127.0.0.1", port: 6881 }),
    rateLimit: { perSecond: 1, burst: 5 },
  });
  const peers = [
    new RawPeer(network.socket({ hostname: "192.0.2.1", port: 1 })),
    new RawPeer(network.socket({ hostname: "192.0.2.1", port: 2 })),
    new RawPeer(network.socket({ hostname: "127.0.0.1", port: 1 })),
    new RawPeer(network.socket({ hostname: "127.0.0.1", port: 2 })),
  ];
  const answered = async (peer: RawPeer, count: number) => {
    let answers = 0;
    for (let i = 0; i < count; i++) {
      if (await peer.query({ method: "ping" }, node.localAddress)) answers++;
    }
    return answers;
  };
  try {
    assert.equal(await answered(peers[0], 5), 5);
    assert.equal(await answered(peers[1], 3), 0, "another port of the same IP shares its budget");
    assert.equal(await answered(peers[2], 5), 5);
    assert.equal(await answered(peers[3], 5), 5, "each local process has its own");
    assert.equal(await answered(peers[3], 2), 0);
  } finally {
    for (const peer of peers) peer.socket.close();
    await node.close();
  }
});

Deno.test("hostile: put with a bogus token, a bad signature or a seq rollback is refused", () =>
  withNode(async (node, peer, network) => {
    const secret = ed25519.utils.randomSecretKey();
    const item = signMutableItem(secret, 10n, bytes("ten"));
    const target = mutableTarget(item.publicKey);
    const got = await peer.query({ method: "get", target }, node.localAddress);
    assert.ok(got?.type === "response" && got.body.token);
    const token = got.body.token;
    const put = (token: Uint8Array, signed = item) =>
      peer.query({
        method: "put",
        token,
        encodedValue: encodeBencode(signed.value),
        publicKey: signed.publicKey,
        seq: signed.seq,
        signature: signed.signature,
      }, node.localAddress);
    const code = (message: KrpcMessage | undefined) =>
      message?.type === "error" ? message.code : message?.type;
    assert.equal(code(await put(bytes("bogus token"))), 203);
    // A token another address got is not ours to use.
    const thief = new RawPeer(network.socket());
    try {
      const stolen = await thief.query({ method: "get", target }, node.localAddress);
      assert.ok(stolen?.type === "response" && stolen.body.token);
      assert.equal(code(await put(stolen.body.token)), 203);
    } finally {
      thief.socket.close();
    }
    assert.equal(code(await put(token, { ...item, signature: new Uint8Array(64).fill(3) })), 206);
    assert.equal(code(await put(token, { ...item, value: bytes("tampered") })), 206);
    assert.equal(code(await put(token)), "response");
    assert.equal(code(await put(token, signMutableItem(secret, 9n, bytes("nine")))), 302);
    const stored = await peer.query({ method: "get", target }, node.localAddress);
    assert.ok(stored?.type === "response");
    assert.equal(stored.body.seq, 10n);
    // Asked with the seq it has, a getter gets the seq alone, not the value again.
    const known = await peer.query({ method: "get", target, seq: 10n }, node.localAddress);
    assert.ok(known?.type === "response" && known.body.seq === 10n && !known.body.encodedValue);
  }));

Deno.test("hostile: immutable puts are stored by hash; oversized values and salts are refused", () =>
  withNode(async (node, peer) => {
    const value = encodeBencode([bytes("any"), 1n]);
    const target = immutableTarget(value);
    const got = await peer.query({ method: "get", target }, node.localAddress);
    assert.ok(got?.type === "response" && got.body.token);
    const token = got.body.token;
    const stored = await peer.query(
      { method: "put", token, encodedValue: value },
      node.localAddress,
    );
    assert.equal(stored?.type, "response");
    const back = await peer.query({ method: "get", target }, node.localAddress);
    assert.deepEqual(back?.type === "response" && back.body.encodedValue, value);
    const big = await peer.query(
      { method: "put", token, encodedValue: encodeBencode(new Uint8Array(997)) },
      node.localAddress,
    );
    assert.equal(big?.type === "error" && big.code, 205);
    const item = signMutableItem(
      ed25519.utils.randomSecretKey(),
      1n,
      bytes("x"),
      new Uint8Array(65),
    );
    const salted = await peer.query({
      method: "put",
      token,
      encodedValue: encodeBencode(item.value),
      publicKey: item.publicKey,
      seq: item.seq,
      signature: item.signature,
      salt: item.salt,
    }, node.localAddress);
    assert.equal(salted?.type === "error" && salted.code, 207);
  }));

Deno.test("hostile: unknown methods get 204; announce_peer needs a token, then get_peers has the peer", () =>
  withNode(async (node, peer) => {
    const unknown = encodeBencode(
      dict([["a", dict([["id", peer.id]])], ["q", bytes("vote")], ["t", bytes("vv")], [
        "y",
        bytes("q"),
      ]]),
    );
    const answer = await peer.ask(unknown, node.localAddress);
    assert.equal(answer?.type === "error" && answer.code, 204);
    const infoHash = randomId();
    const announce = (token: Uint8Array, port: number, impliedPort = false) =>
      peer.query(
        { method: "announce_peer", infoHash, port, impliedPort, token },
        node.localAddress,
      );
    const bogus = await announce(bytes("x"), 51413);
    assert.equal(bogus?.type === "error" && bogus.code, 203);
    const first = await peer.query({ method: "get_peers", infoHash }, node.localAddress);
    assert.ok(
      first?.type === "response" && first.body.token && first.body.nodes && !first.body.values,
    );
    assert.equal((await announce(first.body.token, 51413))?.type, "response");
    const listed = await peer.query({ method: "get_peers", infoHash }, node.localAddress);
    assert.deepEqual(listed?.type === "response" && listed.body.values, [
      { hostname: peer.socket.localAddress.hostname, port: 51413 },
    ]);
    // implied_port: the announcing socket's own port; it replaces the IP's earlier entry.
    assert.equal((await announce(first.body.token, 1, true))?.type, "response");
    const implied = await peer.query({ method: "get_peers", infoHash }, node.localAddress);
    assert.deepEqual(implied?.type === "response" && implied.body.values, [
      peer.socket.localAddress,
    ]);
  }));

Deno.test("hostile: responses to unknown transactions and peers claiming our id stay out of the table", () =>
  withNode(async (node, peer) => {
    for (let i = 0; i < 50; i++) {
      const response = encodeResponse(Uint8Array.of(i, i), randomId(), {
        nodes: [{ id: randomId(), address: { hostname: "10.9.0.1", port: 1 } }],
      });
      await peer.socket.send(response, node.localAddress);
    }
    assert.equal(
      await peer.query({ method: "ping" }, node.localAddress, node.id),
      undefined,
      "no answer to ourselves",
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(node.size, 0);
  }));

Deno.test("hostile: a bootstrap peer answering with our id or with huge fake node lists is bounded", async () => {
  const network = new MemoryDhtNetwork();
  const hostile = new RawPeer(network.socket());
  let fake = 1;
  const fakeNodes = (): NodeContact[] =>
    Array.from(
      { length: 78 },
      () => ({ id: randomId(), address: { hostname: "10.8.0.1", port: fake++ } }),
    );
  const node = await startDhtNode({
    bootstrap: [hostile.socket.localAddress],
    socket: network.socket(),
    queryTimeoutMs: 100,
    lookupTimeoutMs: 800,
    maxLookupQueries: 40,
  });
  let sentToFakes = 0;
  network.filter = (_data, _from, to) => {
    if (to.hostname === "10.8.0.1") sentToFakes++;
    return true;
  };
  const serve = (async () => {
    let answered = 0;
    while (true) {
      let received;
      try {
        received = await hostile.socket.receive();
      } catch {
        return answered;
      }
      const [data, from] = received;
      const message = decodeKrpc(data);
      if (message.type !== "query") continue;
      // The first answer claims the node's own id; later ones name 78 fake nodes each.
      const id = answered++ === 0 ? message.senderId : hostile.id;
      await hostile.socket.send(
        encodeResponse(message.transactionId, id, { nodes: fakeNodes() }),
        from,
      );
    }
  })();
  try {
    const started = performance.now();
    await node.bootstrap();
    assert.equal(node.size, 0, "the one claiming our id is not added; fakes never answered");
    await node.bootstrap();
    assert.ok(node.size <= 1);
    assert.ok(performance.now() - started < 2500, "both within their deadlines");
    assert.ok(sentToFakes <= 80, `${sentToFakes} queries to fake nodes`);
  } finally {
    await node.close();
    hostile.socket.close();
    await serve;
  }
});

Deno.test("hostile: pending queries are bounded; read-only nodes answer nothing", async () => {
  const network = new MemoryDhtNetwork();
  const silent = Array.from({ length: 20 }, (_, i) => ({ hostname: "10.7.0.1", port: i + 1 }));
  let inFlightPeak = 0;
  const sentAt: number[] = [];
  network.filter = (_data, _from, to) => {
    if (to.hostname === "10.7.0.1") sentAt.push(performance.now());
    return true;
  };
  const node = await startDhtNode({
    bootstrap: silent,
    socket: network.socket(),
    queryTimeoutMs: 200,
    lookupTimeoutMs: 300,
    maxPendingQueries: 2,
    readOnly: true,
  });
  const peer = new RawPeer(network.socket());
  try {
    await Promise.all([node.bootstrap(), node.bootstrap()]);
    // Within one query timeout no more than the pending bound went out.
    inFlightPeak = sentAt.filter((at) => at - sentAt[0] < 150).length;
    assert.ok(inFlightPeak <= 2, `${inFlightPeak} queries at once`);
    assert.equal(await peer.query({ method: "ping" }, node.localAddress), undefined);
  } finally {
    peer.socket.close();
    await node.close();
  }
});

Deno.test("hostile: items with bad signatures or for another key are not returned by getMutable", async () => {
  const network = new MemoryDhtNetwork();
  const hostile = new RawPeer(network.socket());
  const secret = ed25519.utils.randomSecretKey();
  const genuine = signMutableItem(secret, 5n, bytes("genuine"));
  const other = signMutableItem(ed25519.utils.randomSecretKey(), 9n, bytes("another key's"));
  let mode: "forged" | "other key" | "genuine" = "forged";
  const node = await startDhtNode({
    bootstrap: [hostile.socket.localAddress],
    socket: network.socket(),
    queryTimeoutMs: 100,
  });
  const serve = (async () => {
    while (true) {
      let received;
      try {
        received = await hostile.socket.receive();
      } catch {
        return;
      }
      const [data, from] = received;
      const message = decodeKrpc(data);
      if (message.type !== "query") continue;
      const item = mode === "forged"
        ? { ...genuine, seq: 6n, value: bytes("forged") } // genuine's signature over other bytes
        : mode === "other key"
        ? other
        : genuine;
      await hostile.socket.send(
        encodeResponse(message.transactionId, hostile.id, {
          token: bytes("t"),
          publicKey: item.publicKey,
          seq: item.seq,
          signature: item.signature,
          encodedValue: encodeBencode(item.value),
        }),
        from,
      );
    }
  })();
  try {
    assert.equal(await node.getMutable(genuine.publicKey), undefined, "forged");
    mode = "other key";
    assert.equal(await node.getMutable(genuine.publicKey), undefined, "another key's item");
    mode = "genuine";
    assert.deepEqual(
      (await node.getMutable(genuine.publicKey))?.value,
      genuine.value,
      "the check passes real items",
    );
  } finally {
    await node.close();
    hostile.socket.close();
    await serve;
  }
});
