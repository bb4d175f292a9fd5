import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { MemoryRecordDht } from "./_memory_record_dht.ts";
import {
  publishRecordToDht,
  recordItemOf,
  resolveRecordFromDht,
  signedPacketOf,
} from "./dht_records.ts";
import { SignedPacketError, signRecord, verifySignedPacket } from "./signed_packet.ts";
import { startPublishing } from "./publisher.ts";

const record = {
  relayUrls: ["https://relay.example/"],
  addrs: [{ hostname: "192.0.2.1", port: 4433 }],
  timestampMicros: 1_733_000_000_000_000n,
};

Deno.test("a signed packet and its DHT item are the same three parts", () => {
  const key = SecretKey.generate();
  const body = signRecord(key, record);
  const item = recordItemOf(key.endpointId.bytes, body);
  assert.equal(item.seq, record.timestampMicros);
  assert.equal(item.signature.length, 64);
  assert.deepEqual(item.publicKey, key.endpointId.bytes);
  assert.deepEqual(signedPacketOf(item), body);
  assert.deepEqual(verifySignedPacket(key.endpointId, signedPacketOf(item)).relayUrls, [
    "https://relay.example/",
  ]);
});

Deno.test("recordItemOf() and signedPacketOf() refuse what is no record", () => {
  const key = SecretKey.generate();
  assert.throws(() => recordItemOf(key.endpointId.bytes, new Uint8Array(72)), SignedPacketError);
  const item = recordItemOf(key.endpointId.bytes, signRecord(key, record));
  assert.throws(() => signedPacketOf({ ...item, seq: -1n }), SignedPacketError);
  assert.throws(() => signedPacketOf({ ...item, seq: 1n << 64n }), SignedPacketError);
  assert.throws(
    () => signedPacketOf({ ...item, signature: new Uint8Array(63) }),
    SignedPacketError,
  );
});

Deno.test("a record published to the DHT resolves; another key's item is refused", async () => {
  const dht = new MemoryRecordDht();
  const key = SecretKey.generate();
  assert.equal(await resolveRecordFromDht(dht, key.endpointId), undefined);
  assert.equal(await publishRecordToDht(dht, key, record), 8);
  const found = await resolveRecordFromDht(dht, key.endpointId);
  assert.deepEqual(found?.addrs, [{ hostname: "192.0.2.1", port: 4433 }]);
  // A node that answers with another key's item under this key: the signature says no.
  const other = SecretKey.generate();
  await publishRecordToDht(dht, other, record);
  const forged = dht.items.get(toHex(other.endpointId.bytes))!;
  dht.items.set(toHex(key.endpointId.bytes), { ...forged, publicKey: key.endpointId.bytes });
  await assert.rejects(() => resolveRecordFromDht(dht, key.endpointId), SignedPacketError);
});

Deno.test("startPublishing() to the DHT publishes, and retries while the DHT is down", async () => {
  const dht = new MemoryRecordDht();
  dht.down = true;
  const key = SecretKey.generate();
  const errors: Error[] = [];
  let recovered = 0;
  const publisher = startPublishing({
    secretKey: key,
    destination: { dht },
    contents: () => ({ relayUrls: ["http://127.0.0.1:3340/"], addrs: [] }),
    onError: (error) => errors.push(error),
    onRecovered: () => recovered++,
    retryMs: 20,
  });
  try {
    assert.match((await publisher.first)?.message ?? "", /no DHT node answered/);
    dht.down = false;
    const deadline = Date.now() + 3_000;
    while (recovered === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(recovered, 1);
    const found = await resolveRecordFromDht(dht, key.endpointId);
    assert.deepEqual(found?.relayUrls, ["http://127.0.0.1:3340/"]);
  } finally {
    publisher.stop();
  }
});

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
