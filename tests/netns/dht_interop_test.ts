/**
 * The private DHT fixture, and our signed records as BEP 44 items: a swarm of npm
 * bittorrent-dht nodes on a bed's public segment, with independent tools (bittorrent-dht
 * plus npm pkarr's libsodium-based SignedPacket) putting and getting records from hosts
 * behind NAT. Our own DHT node is not involved yet: these tests prove the fixture, and
 * that what `signRecord` signs is a valid BEP 44 mutable item to another implementation.
 */
import assert from "node:assert/strict";
import { endpointIdToZ32, signRecord, verifySignedPacket } from "../../core/discovery/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import {
  assertInsideBed,
  type Bed,
  canBuildBeds,
  createBed,
  type DhtSwarm,
  independentGet,
  independentPut,
  independentPutSigned,
  MAX_DHT_SWARM_NODES,
  startDhtSwarm,
  sweepStaleBeds,
} from "./mod.ts";
import { tool } from "./command.ts";
import { listNamespaces } from "./namespaces.ts";

const support = await canBuildBeds({ stun: false });
if (!support.ok) console.log(`skipping DHT interop: ${support.reason}`);
else await sweepStaleBeds();

const NODES = 8;
const RELAY = "http://198.51.100.1:3340/";

async function withSwarm(fn: (bed: Bed, swarm: DhtSwarm) => Promise<void>): Promise<void> {
  const bed = await createBed({ left: "port-restricted", right: "symmetric", stun: false });
  let swarm: DhtSwarm | undefined;
  try {
    const started = performance.now();
    swarm = await startDhtSwarm(bed, { nodes: NODES });
    console.log(`${NODES} nodes ready in ${(performance.now() - started).toFixed(0)} ms`);
    await fn(bed, swarm);
  } finally {
    await swarm?.stop();
    await bed.close();
  }
}

async function timed<T>(what: string, work: Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work;
  console.log(`${what}: ${(performance.now() - started).toFixed(0)} ms`);
  return result;
}

Deno.test({
  name: "private DHT: bittorrent-dht nodes and tools interoperate with our signed records",
  ignore: !support.ok,
  fn: async (t) => {
    let swarmNamespaces: readonly string[] = [];
    await withSwarm(async (bed, swarm) => {
      swarmNamespaces = swarm.namespaces;

      await t.step("every node knows every other node, and only them", async () => {
        for (const node of await swarm.status()) {
          const others = swarm.bootstrap.filter((address) => address !== node.address);
          assert.deepEqual([...node.table].sort(), [...others].sort(), node.address);
          assert.deepEqual([...node.sentTo].sort(), [...others].sort(), node.address);
          assert.deepEqual(node.values, [], node.address);
        }
      });

      await t.step(
        "a record signed by our code, put from the left, verifies on the right",
        async () => {
          const key = SecretKey.generate();
          const z32 = endpointIdToZ32(key.endpointId);
          const timestampMicros = BigInt(Date.now()) * 1000n;
          const body = signRecord(key, {
            relayUrls: [RELAY],
            addrs: [{ hostname: bed.left.wanIp, port: 4433 }],
            timestampMicros,
          });
          const put = await timed(
            "independent put of our body",
            independentPutSigned(swarm, bed.left, z32, body),
          );
          assert.equal(put.publicKey, z32);
          assert.equal(put.seq, timestampMicros);
          assert.equal(put.acks, NODES); // k = 20 > NODES: every node is among the closest
          const keyHex = Array.from(key.endpointId.bytes, (b) => b.toString(16).padStart(2, "0"))
            .join("");
          for (const node of await swarm.status()) {
            assert.deepEqual(
              node.values,
              [{ k: keyHex, seq: Number(timestampMicros) }],
              node.address,
            );
          }
          const got = await timed("independent get", independentGet(swarm, bed.right, z32));
          assert.ok(got, "the right host found no record");
          assert.equal(got.publicKey, z32);
          assert.equal(got.seq, timestampMicros);
          assert.deepEqual(got.relayUrls, [RELAY]);
          assert.deepEqual(got.addrs, [`${bed.left.wanIp}:4433`]);
          assert.deepEqual(got.body, body); // byte for byte what we signed
        },
      );

      await t.step("pkarr refuses to put a body whose signature does not match", async () => {
        const key = SecretKey.generate();
        const body = signRecord(key, { relayUrls: [RELAY], addrs: [], timestampMicros: 1n });
        body[body.length - 1] ^= 1; // the packet's last byte: the signature no longer covers it
        await assert.rejects(
          independentPutSigned(swarm, bed.left, endpointIdToZ32(key.endpointId), body),
          /does not verify as a pkarr packet.*Invalid signature/,
        );
        const other = endpointIdToZ32(SecretKey.generate().endpointId);
        const valid = signRecord(key, { relayUrls: [RELAY], addrs: [], timestampMicros: 1n });
        await assert.rejects(
          independentPutSigned(swarm, bed.left, other, valid),
          /does not verify as a pkarr packet/,
        );
      });

      await t.step(
        "bittorrent-dht puts a 999-byte DNS packet of ours and refuses 1000",
        async () => {
          // 24 addresses and a long relay path bring our packet to the sizes wanted.
          const sized = (bytes: number) => {
            const key = SecretKey.generate();
            const path = "a".repeat(bytes - 954);
            const body = signRecord(key, {
              relayUrls: [`${RELAY}${path}`],
              addrs: Array.from(
                { length: 24 },
                (_, i) => ({ hostname: "198.51.100.1", port: 1000 + i }),
              ),
              timestampMicros: BigInt(Date.now()) * 1000n,
            });
            assert.equal(body.length - 72, bytes);
            return { z32: endpointIdToZ32(key.endpointId), body };
          };
          const fits = sized(999);
          assert.equal(
            (await independentPutSigned(swarm, bed.left, fits.z32, fits.body)).acks,
            NODES,
          );
          assert.deepEqual((await independentGet(swarm, bed.right, fits.z32))?.body, fits.body);
          const over = sized(1000); // our MAX_DNS_PACKET_SIZE: bittorrent-dht's put wants < 1000
          await assert.rejects(
            independentPutSigned(swarm, bed.left, over.z32, over.body),
            /put refused: v must be less than 1000 bytes in put\(\)$/,
          );
        },
      );

      await t.step("seq beyond 2^53 is refused: bittorrent-dht's numbers are doubles", async () => {
        await assert.rejects(
          independentPut(swarm, bed.left, { seq: 1n << 53n, txt: [] }),
          /seq "9007199254740992" is not an integer below 2\^53$/,
        );
        const key = SecretKey.generate();
        const body = signRecord(key, { relayUrls: [], addrs: [], timestampMicros: 1n << 53n });
        await assert.rejects(
          independentPutSigned(swarm, bed.left, endpointIdToZ32(key.endpointId), body),
          /seq 9007199254740992 does not fit bittorrent-dht's numbers \(2\^53\)$/,
        );
      });

      await t.step(
        "a record pkarr signs, put from the right, is read from the left and by our code",
        async () => {
          const seq = BigInt(Date.now()) * 1000n;
          const txt = [`relay=${RELAY}`, `addr=${bed.right.wanIp}:7000`];
          const put = await independentPut(swarm, bed.right, { seq, txt });
          assert.equal(put.acks, NODES);
          const ours = new SecretKey(put.seed).endpointId;
          assert.equal(put.publicKey, endpointIdToZ32(ours)); // same seed, same key in both
          const got = await independentGet(swarm, bed.left, put.publicKey);
          assert.ok(got, "the left host found no record");
          assert.equal(got.seq, seq);
          assert.deepEqual(got.txt.map((record) => record.text), txt);
          assert.deepEqual(got.txt.map((r) => r.name), txt.map(() => `_iroh.${put.publicKey}`));
          // Our reader accepts pkarr's signature and DNS packet as they are.
          const record = verifySignedPacket(ours, got.body);
          assert.equal(record.timestampMicros, seq);
          assert.deepEqual(record.relayUrls, [RELAY]);
          assert.deepEqual(record.addrs, [{ hostname: bed.right.wanIp, port: 7000 }]);
        },
      );

      await t.step("a newer seq replaces the record on every node", async () => {
        const seed = crypto.getRandomValues(new Uint8Array(32));
        await independentPut(swarm, "public", { seed, seq: 1000n, txt: ["addr=198.51.100.1:1"] });
        const newer = await independentPut(swarm, "public", {
          seed,
          seq: 2000n,
          txt: ["addr=198.51.100.1:2"],
        });
        assert.equal(newer.acks, NODES);
        const got = await independentGet(swarm, bed.right, newer.publicKey);
        assert.equal(got?.seq, 2000n);
        assert.deepEqual(got?.addrs, ["198.51.100.1:2"]);
      });

      await t.step("a key nobody put is not found", async () => {
        const z32 = endpointIdToZ32(SecretKey.generate().endpointId);
        assert.equal(
          await timed("get of a missing key", independentGet(swarm, bed.left, z32)),
          undefined,
        );
      });

      await t.step("the nodes and tools sent nothing outside the bed", async () => {
        for (const node of await swarm.status()) {
          assertInsideBed(node.sentTo, node.address);
          // Tools joined the tables from behind the routers (their WAN addresses) or from
          // the public host: the nodes never saw anything but the public segment.
          const publicSegment = /^198\.51\.100\.\d{1,3}:\d+$/;
          for (const address of [...node.sentTo, ...node.table]) {
            assert.match(address, publicSegment, node.address);
          }
        }
      });

      await t.step("the outside-the-bed check fails a tool that sends elsewhere", async () => {
        // TEST-NET-1 has no route out of the bed: the datagram dies in the public namespace.
        const stray = { bed, bootstrap: [...swarm.bootstrap, "192.0.2.1:6881"] };
        const z32 = endpointIdToZ32(SecretKey.generate().endpointId);
        await assert.rejects(
          independentGet(stray, bed.left, z32),
          /independent get sent datagrams outside the bed: 192\.0\.2\.1:6881/,
        );
      });

      await t.step("a tool's deadline ends a lookup that cannot finish in time", async () => {
        // No node at .199: bittorrent-dht waits 2 s for its query; the deadline is 300 ms.
        const silent = { bed, bootstrap: ["198.51.100.199:6881"] };
        const z32 = endpointIdToZ32(SecretKey.generate().endpointId);
        await assert.rejects(
          independentGet(silent, bed.left, z32, { deadlineMs: 300 }),
          /independent get failed: _dht_tool: get did not finish within 300 ms/,
        );
      });

      await t.step("bad input gets one line naming it", async () => {
        await assert.rejects(
          independentGet(swarm, bed.left, "not-a-key"),
          /independent get failed: _dht_tool: public key "not-a-key" is not z-base-32$/,
        );
        await assert.rejects(
          independentGet({ bed, bootstrap: ["router.bittorrent.com:6881"] }, bed.left, "x"),
          /not an IPv4 address and port: "router\.bittorrent\.com:6881"$/,
        );
      });

      const exits = await swarm.stop();
      assert.deepEqual(exits.map((exit) => exit?.code), exits.map(() => 0));
    });
    const left = new Set(await listNamespaces());
    assert.deepEqual(swarmNamespaces.filter((ns) => left.has(ns)), []);
  },
});

Deno.test({
  name: "private DHT: the swarm's bounds",
  ignore: !support.ok,
  fn: async () => {
    const bed = await createBed({ left: "full-cone", right: "full-cone", stun: false });
    try {
      for (const nodes of [0, MAX_DHT_SWARM_NODES + 1, 2.5]) {
        await assert.rejects(startDhtSwarm(bed, { nodes }), RangeError);
      }
      const before = await listNamespaces();
      // No Deno process listens 1 ms after its spawn: the swarm gives up and leaves nothing.
      await assert.rejects(
        startDhtSwarm(bed, { nodes: 2, startTimeoutMs: 1 }),
        /no "listening" event within 1 ms/,
      );
      assert.deepEqual((await listNamespaces()).sort(), before.sort());
      // The public bridge drops the nodes' UDP: the tables stay empty until the deadline.
      await bed.exec("public", [tool("nft", "nftables"), "-f", "-"], {
        stdin: "table bridge dht_cut {\n chain forward {\n" +
          "  type filter hook forward priority 0; udp dport 6881 drop\n }\n}\n",
      }).then((result) => assert.equal(result.code, 0, result.stderr));
      await assert.rejects(
        startDhtSwarm(bed, { nodes: 3, readyTimeoutMs: 1_500 }),
        /DHT swarm not ready within 1500 ms: routing tables not full \(198\.51\.100\.101:6881 lacks 2/,
      );
      assert.deepEqual((await listNamespaces()).sort(), before.sort());
    } finally {
      await bed.close();
    }
  },
});
