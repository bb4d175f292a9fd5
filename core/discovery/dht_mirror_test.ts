import assert from "node:assert/strict";
import { type EndpointId, SecretKey } from "../identity/mod.ts";
import { MemoryRecordDht } from "./_memory_record_dht.ts";
import {
  DhtMirror,
  MIRROR_LOOKUP_BURST,
  MIRROR_LOOKUPS_IN_FLIGHT,
  MIRROR_NEGATIVE_MS,
} from "./dht_mirror.ts";
import { publishRecordToDht, type RecordDht, type RecordItem } from "./dht_records.ts";
import { createPkarrStore } from "./pkarr_store.ts";
import { signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const record = (timestampMicros: bigint) => ({
  relayUrls: ["https://relay.example/"],
  addrs: [],
  timestampMicros,
});

function until(check: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error("timed out waiting"));
      setTimeout(poll, 5);
    };
    poll();
  });
}

/** A mirror over a map of bodies, as the relay's store would hold them. */
function mirrorOver(dht: RecordDht, options: { maxKeys?: number; republishMs?: number } = {}) {
  const bodies = new Map<string, Uint8Array>();
  let clock = 0;
  const mirror = new DhtMirror({
    dht,
    current: (key) => bodies.get(key),
    maxKeys: options.maxKeys ?? 100,
    republishMs: options.republishMs ?? 1_000,
    tickMs: 5,
    now: () => clock,
  });
  const store = (key: SecretKey, at: bigint) => {
    const z32 = endpointIdToZ32(key.endpointId);
    bodies.set(z32, signRecord(key, record(at)));
    mirror.stored(z32, key.endpointId);
  };
  return { mirror, bodies, store, advance: (ms: number) => clock += ms };
}

Deno.test("DhtMirror puts a stored record into the DHT, and again each interval while held", async () => {
  const dht = new MemoryRecordDht();
  const { mirror, bodies, store, advance } = mirrorOver(dht);
  try {
    const key = SecretKey.generate();
    store(key, 10n);
    await until(() => dht.puts === 1);
    const held = [...dht.items.values()][0];
    assert.equal(held.seq, 10n);
    // Not again before the interval...
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(dht.puts, 1);
    // ...then again; and once the relay lost it, never more.
    advance(1_000);
    await until(() => dht.puts === 2);
    bodies.clear();
    advance(1_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(dht.puts, 2);
    assert.equal(mirror.scheduled, 0);
  } finally {
    mirror.close();
  }
});

Deno.test("DhtMirror: a record stored during a put is put too, not left for the interval", async () => {
  let release: () => void = () => {};
  const seen: bigint[] = [];
  const slow: RecordDht = {
    getMutable: () => Promise.resolve(undefined),
    putMutable: (item: RecordItem) => {
      seen.push(item.seq);
      return new Promise((resolve) => release = () => resolve({ stored: 1 }));
    },
  };
  const { mirror, store } = mirrorOver(slow, { republishMs: 60_000 });
  try {
    const key = SecretKey.generate();
    store(key, 1n);
    await until(() => seen.length === 1);
    store(key, 2n);
    release();
    await until(() => seen.length === 2);
    release();
    assert.deepEqual(seen, [1n, 2n]);
  } finally {
    mirror.close();
  }
});

Deno.test("DhtMirror keeps at most maxKeys scheduled, and retries a failed put later", async () => {
  const dht = new MemoryRecordDht();
  dht.down = true;
  const { mirror, store, advance } = mirrorOver(dht, { maxKeys: 3, republishMs: 120_000 });
  try {
    for (let i = 0; i < 10; i++) store(SecretKey.generate(), BigInt(i + 1));
    assert.equal(mirror.scheduled, 3);
    await until(() => mirror.counts.putFailed === 3);
    dht.down = false;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(mirror.counts.put, 0, "no retry before a minute");
    advance(60_000);
    await until(() => mirror.counts.put === 3);
  } finally {
    mirror.close();
  }
});

Deno.test("DhtMirror lookups: found and checked, absent remembered, shared, and bounded per network", async () => {
  const dht = new MemoryRecordDht();
  const { mirror, advance } = mirrorOver(dht);
  try {
    const key = SecretKey.generate();
    const z32 = endpointIdToZ32(key.endpointId);
    await publishRecordToDht(dht, key, record(5n));
    const body = await mirror.lookup(z32, key.endpointId, "192.0.2.1");
    assert.ok(body);
    assert.equal(new DataView(body.buffer, body.byteOffset).getBigUint64(64), 5n);

    // Absent: asked once, then not again for a while.
    const missing = SecretKey.generate();
    const gets = dht.gets;
    assert.equal(await lookup(mirror, missing.endpointId, "192.0.2.2"), undefined);
    assert.equal(await lookup(mirror, missing.endpointId, "192.0.2.3"), undefined);
    assert.equal(dht.gets, gets + 1);
    advance(MIRROR_NEGATIVE_MS + 1);
    await lookup(mirror, missing.endpointId, "192.0.2.4");
    assert.equal(dht.gets, gets + 2);

    // One network gets its burst, then nothing.
    const before = dht.gets;
    for (let i = 0; i < MIRROR_LOOKUP_BURST + 5; i++) {
      await lookup(mirror, SecretKey.generate().endpointId, "198.51.100.9");
    }
    assert.equal(dht.gets - before, MIRROR_LOOKUP_BURST);
    assert.equal(mirror.counts.refused, 5);
  } finally {
    mirror.close();
  }
});

Deno.test("DhtMirror lookups: a forged item is refused, and slots in flight are bounded", async () => {
  const victim = SecretKey.generate();
  const liar = SecretKey.generate();
  const forged = new MemoryRecordDht();
  await publishRecordToDht(forged, liar, record(9n));
  const lie = [...forged.items.values()][0];
  let waiting: (() => void)[] = [];
  const hostile: RecordDht = {
    getMutable: () =>
      new Promise((resolve) =>
        waiting.push(() => resolve({ ...lie, publicKey: victim.endpointId.bytes }))
      ),
    putMutable: () => Promise.resolve({ stored: 1 }),
  };
  const { mirror } = mirrorOver(hostile);
  try {
    const asked = [];
    for (let i = 0; i < MIRROR_LOOKUPS_IN_FLIGHT + 4; i++) {
      asked.push(lookup(mirror, SecretKey.generate().endpointId, `203.0.113.${i}`));
    }
    const refused = await Promise.race([asked.at(-1), Promise.resolve("pending")]);
    assert.equal(refused, undefined, "over the slots: answered at once, with nothing");
    assert.equal(waiting.length, MIRROR_LOOKUPS_IN_FLIGHT);
    for (const answer of waiting) answer();
    waiting = [];
    assert.deepEqual(await Promise.all(asked), asked.map(() => undefined));
  } finally {
    mirror.close();
  }
});

Deno.test("the pkarr store: a GET it cannot answer is asked of the DHT, kept and served; a PUT is told", async () => {
  const dht = new MemoryRecordDht();
  const put: string[] = [];
  const mirror = new DhtMirror({ dht, current: () => undefined, maxKeys: 10, tickMs: 5 });
  const store = createPkarrStore({
    onPut: (key) => put.push(key),
    fetchMissing: (key, id, address) => mirror.lookup(key, id, address),
  });
  try {
    const inDht = SecretKey.generate();
    await publishRecordToDht(dht, inDht, record(BigInt(Date.now()) * 1000n));
    const z32 = endpointIdToZ32(inDht.endpointId);
    const info = { remoteAddr: { hostname: "192.0.2.80" } };
    const response = await store.handler(new Request(`http://relay.test/pkarr/${z32}`), info);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.ok(store.lookup(z32), "kept: the DNS face answers it now");
    const gets = dht.gets;
    const again = await store.handler(new Request(`http://relay.test/pkarr/${z32}`), info);
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal(dht.gets, gets, "served from the store");

    const nowhere = endpointIdToZ32(SecretKey.generate().endpointId);
    const missing = await store.handler(new Request(`http://relay.test/pkarr/${nowhere}`), info);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();

    const writer = SecretKey.generate();
    const body = signRecord(writer, record(BigInt(Date.now()) * 1000n));
    const stored = await store.handler(
      new Request(`http://relay.test/pkarr/${endpointIdToZ32(writer.endpointId)}`, {
        method: "PUT",
        body,
      }),
      info,
    );
    assert.equal(stored.status, 204);
    assert.deepEqual(put, [endpointIdToZ32(writer.endpointId)]);
  } finally {
    mirror.close();
  }
});

function lookup(mirror: DhtMirror, id: EndpointId, address: string) {
  return mirror.lookup(endpointIdToZ32(id), id, address);
}
