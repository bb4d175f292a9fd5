/**
 * Our node against an independent implementation (npm bittorrent-dht 11.0.12,
 * webtorrent's) on loopback UDP: our put is read and its signature checked by
 * theirs, their put is read and checked by ours.
 */
import assert from "node:assert/strict";
import DHT from "bittorrent-dht";
import { ed25519 } from "@noble/curves/ed25519.js";
import { Buffer } from "node:buffer";
import { type DhtNode, startDhtNode } from "./dht_node.ts";
import { decodeKrpc, encodeQuery, type KrpcMessage, type KrpcQuery } from "./krpc.ts";
import { mutableTarget, signMutableItem } from "./mutable_item.ts";
import { toHex } from "./node_id.ts";

const LOOPBACK = "127.0.0.1";
const encoder = new TextEncoder();

interface TheirItem {
  v: Uint8Array;
  seq: number;
  k: Uint8Array;
  sig: Uint8Array;
}

// deno-lint-ignore no-explicit-any
type TheirDht = any;

function theirNode(bootstrap: string[]): Promise<TheirDht> {
  const dht = new DHT({
    bootstrap,
    host: LOOPBACK,
    verify: (sig: Uint8Array, message: Uint8Array, key: Uint8Array) =>
      ed25519.verify(sig, message, key),
  });
  return new Promise((resolve, reject) => {
    dht.once("error", reject);
    dht.listen(0, LOOPBACK, () => resolve(dht));
  });
}

function theirs<T>(call: (done: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("bittorrent-dht did not call back in 10 s")),
      10_000,
    );
    call((error, value) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    });
  });
}

Deno.test({
  name:
    "bittorrent-dht reads and checks our put; we read and check theirs; its announce is listed by ours",
  fn: async () => {
    const ours: DhtNode[] = [];
    const them: TheirDht[] = [];
    try {
      const first = await startDhtNode({
        bootstrap: [],
        bind: { hostname: LOOPBACK, port: 0 },
        queryTimeoutMs: 500,
      });
      ours.push(first);
      const seed = `${LOOPBACK}:${first.localAddress.port}`;
      for (let i = 0; i < 3; i++) {
        ours.push(
          await startDhtNode({
            bootstrap: [first.localAddress],
            bind: { hostname: LOOPBACK, port: 0 },
            queryTimeoutMs: 500,
          }),
        );
      }
      for (let i = 0; i < 3; i++) them.push(await theirNode([seed]));
      await Promise.all(them.map((dht) => new Promise((resolve) => dht.once("ready", resolve))));
      for (const node of ours.slice(1)) await node.bootstrap();
      await first.bootstrap();

      // Ours puts (a pkarr-sized value: seq in microseconds), theirs gets without its cache.
      const ourSecret = ed25519.utils.randomSecretKey();
      const seq = BigInt(Date.now()) * 1000n;
      const ourItem = signMutableItem(ourSecret, seq, encoder.encode("a DNS packet, say"));
      const { stored } = await ours[2].putMutable(ourItem);
      assert.ok(stored >= 2, `stored by ${stored}`);
      const holders = them.filter((dht) =>
        Object.keys(dht.toJSON().values).includes(toHex(mutableTarget(ourItem.publicKey)))
      );
      assert.ok(holders.length >= 1, "a bittorrent-dht node accepted our put (it verifies puts)");
      for (const dht of them) {
        const got = await theirs<TheirItem | null>((done) =>
          dht.get(Buffer.from(mutableTarget(ourItem.publicKey)), { cache: false }, done)
        );
        assert.ok(got, "bittorrent-dht found our item");
        assert.equal(BigInt(got.seq), seq);
        assert.deepEqual(new Uint8Array(got.v), ourItem.value);
        assert.deepEqual(new Uint8Array(got.sig), ourItem.signature);
      }

      // Theirs puts, ours gets and verifies.
      const theirSecret = ed25519.utils.randomSecretKey();
      const theirKey = ed25519.getPublicKey(theirSecret);
      const theirValue = Buffer.from("their record");
      await theirs((done) =>
        them[1].put({
          k: Buffer.from(theirKey),
          seq: 42,
          v: theirValue,
          sign: (message: Uint8Array) => Buffer.from(ed25519.sign(message, theirSecret)),
        }, done)
      );
      for (const node of ours) {
        const found = await node.getMutable(theirKey);
        assert.ok(found, "our node found their item");
        assert.equal(found.seq, 42n);
        assert.deepEqual(found.value, new Uint8Array(theirValue));
      }

      // Theirs announces a peer; our nodes store it and list it in get_peers answers.
      const infoHash = crypto.getRandomValues(new Uint8Array(20));
      await theirs((done) => them[0].announce(Buffer.from(infoHash), 4567, done));
      let listing = 0;
      for (const node of ours) {
        const answer = await askOverUdp(node.localAddress.port, { method: "get_peers", infoHash });
        const values = answer?.type === "response" ? answer.body.values ?? [] : [];
        if (values.some((peer) => peer.hostname === LOOPBACK && peer.port === 4567)) listing++;
      }
      assert.ok(listing >= 2, `${listing} of our nodes list the announced peer`);
    } finally {
      await Promise.all(ours.map((node) => node.close()));
      await Promise.all(them.map((dht) => new Promise((resolve) => dht.destroy(resolve))));
    }
  },
});

/** One KRPC query from a fresh loopback socket; the answer, or undefined after 1 s. */
async function askOverUdp(
  port: number,
  query: Exclude<KrpcQuery, { method: "unknown" }>,
): Promise<KrpcMessage | undefined> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await socket.send(encodeQuery(Uint8Array.of(7, 7), new Uint8Array(20).fill(9), query), {
      transport: "udp",
      hostname: LOOPBACK,
      port,
    });
    const timeout = new Promise<undefined>((resolve) =>
      timer = setTimeout(() => resolve(undefined), 1000)
    );
    const received = socket.receive().then(([data]) => decodeKrpc(data), () => undefined);
    return await Promise.race([received, timeout]);
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
