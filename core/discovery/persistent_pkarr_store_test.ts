import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SecretKey } from "../identity/mod.ts";
import {
  LOAD_SLICE_ROWS,
  openPersistentPkarrStore,
  type PersistentPkarrStore,
  type PersistentPkarrStoreOptions,
  type RecordFileLoad,
} from "./persistent_pkarr_store.ts";
import { MIN_RECORD_LIFETIME_SECONDS } from "./pkarr_store.ts";
import { maxRecordFileBytes, RecordFile, RecordFileError } from "./record_file.ts";
import { signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const BASE = "http://relay.test/pkarr";
const urlOf = (key: SecretKey) => `${BASE}/${endpointIdToZ32(key.endpointId)}`;
const bodyOf = (key: SecretKey, timestampMicros = BigInt(Date.now()) * 1000n) =>
  signRecord(key, { relayUrls: ["https://relay.example/"], addrs: [], timestampMicros });

/** Clocks a test moves: monotonic and wall, both in ms. */
function clocks() {
  return { ms: 1_000, wall: Date.now() };
}

async function open(
  path: string,
  clock: ReturnType<typeof clocks>,
  options: PersistentPkarrStoreOptions = {},
): Promise<
  PersistentPkarrStore & RecordFileLoad & {
    put: (key: SecretKey, body?: Uint8Array, from?: string) => Promise<number>;
    get: (key: SecretKey) => Promise<Uint8Array | undefined>;
  }
> {
  const store = openPersistentPkarrStore(path, {
    now: () => clock.ms,
    wallClock: () => clock.wall,
    flushIntervalMs: 60_000,
    ...options,
  });
  return Object.assign(store, await store.loading, {
    put: async (key: SecretKey, body: Uint8Array = bodyOf(key), from = "192.0.2.1") => {
      const response = await store.handler(
        new Request(urlOf(key), { method: "PUT", body: body.slice() }),
        { remoteAddr: { hostname: from } },
      );
      await response.body?.cancel();
      return response.status;
    },
    get: async (key: SecretKey) => {
      const response = await store.handler(new Request(urlOf(key)));
      if (response.status !== 200) {
        await response.body?.cancel();
        return undefined;
      }
      return new Uint8Array(await response.arrayBuffer());
    },
  });
}

async function tempFile(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tunnel-records-" });
  return `${dir}/records.sqlite`;
}

/** Rows of a closed records file, read with a connection of its own. */
function rowCount(path: string): number {
  const db = new DatabaseSync(path);
  try {
    return (db.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

Deno.test("openPersistentPkarrStore(): records written before close are served after reopening", async () => {
  const path = await tempFile();
  // An empty file someone made readable to all: a new records file, made 0600.
  await Deno.writeFile(path, new Uint8Array());
  if (Deno.build.os !== "windows") await Deno.chmod(path, 0o644);
  const clock = clocks();
  const keys = [SecretKey.generate(), SecretKey.generate(), SecretKey.generate()];
  const bodies = keys.map((key) => bodyOf(key));
  const first = await open(path, clock);
  assert.equal(first.loaded, 0);
  for (const [i, key] of keys.entries()) {
    assert.equal(await first.put(key, bodies[i], i === 2 ? "198.51.100.7" : "192.0.2.1"), 204);
  }
  first.close();
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);

  const second = await open(path, clock);
  try {
    assert.equal(second.loaded, 3);
    assert.equal(second.dropped, 0);
    for (const [i, key] of keys.entries()) {
      assert.deepEqual(await second.get(key), bodies[i]);
      // The DNS face reads the same store.
      assert.deepEqual(second.lookup(endpointIdToZ32(key.endpointId)), bodies[i]);
    }
    // A record older than the loaded one is still refused: the table knows its timestamp.
    assert.equal(await second.put(keys[0], bodyOf(keys[0], 1n)), 409);
  } finally {
    second.close();
  }
});

Deno.test("openPersistentPkarrStore(): a record expires after a restart as it would have without one", async () => {
  const path = await tempFile();
  const clock = clocks();
  const key = SecretKey.generate();
  const first = await open(path, clock);
  assert.equal(await first.put(key), 204);
  first.close();

  // 10 minutes later (the relay was down): 5 of its 15 minutes are left.
  clock.wall += 10 * 60_000;
  const second = await open(path, clock);
  assert.equal(second.loaded, 1);
  assert.ok(await second.get(key));
  clock.ms += 5 * 60_000 - 1_000;
  assert.ok(await second.get(key), "alive 1 s before its expiry");
  clock.ms += 1_000;
  assert.equal(await second.get(key), undefined, "gone at its expiry");
  second.close();

  // Past its expiry at the next start: dropped, and gone from the file.
  const third = await open(path, clock);
  third.close();
  assert.equal(rowCount(path), 0);

  const fourth = await open(path, clock);
  assert.equal(await fourth.put(key), 204);
  fourth.close();
  clock.wall += MIN_RECORD_LIFETIME_SECONDS * 1000;
  const fifth = await open(path, clock);
  assert.equal(fifth.loaded, 0);
  assert.equal(fifth.dropped, 1);
  assert.equal(await fifth.get(key), undefined);
  fifth.close();
});

Deno.test("openPersistentPkarrStore(): a file's expiry is never trusted past a fresh write's lifetime", async () => {
  const path = await tempFile();
  const clock = clocks();
  const key = SecretKey.generate();
  const file = RecordFile.open(path, 10);
  // Claims to live a year; a PUT of this record would live 15 minutes.
  file.write([{
    key: endpointIdToZ32(key.endpointId),
    body: bodyOf(key),
    writer: "192.0.2.1",
    expiresAtMs: clock.wall + 365 * 86_400_000,
  }], []);
  file.close();
  const store = await open(path, clock);
  assert.equal(store.loaded, 1);
  clock.ms += MIN_RECORD_LIFETIME_SECONDS * 1000;
  assert.equal(await store.get(key), undefined);
  store.close();
});

Deno.test("openPersistentPkarrStore(): rows failing a check are dropped, the rest load", async () => {
  const path = await tempFile();
  const clock = clocks();
  const good = SecretKey.generate();
  const forged = SecretKey.generate();
  const other = SecretKey.generate();
  const z32 = (key: SecretKey) => endpointIdToZ32(key.endpointId);
  const tampered = bodyOf(forged);
  tampered[tampered.length - 1] ^= 1;
  const file = RecordFile.open(path, 10);
  const expiresAtMs = clock.wall + 60_000;
  file.write([
    { key: z32(good), body: bodyOf(good), writer: "192.0.2.1", expiresAtMs },
    // The signature no longer covers the body.
    { key: z32(forged), body: tampered, writer: "192.0.2.1", expiresAtMs },
    // Signed by another key than the row's.
    { key: z32(other), body: bodyOf(good), writer: "192.0.2.1", expiresAtMs },
    { key: "not-a-key", body: bodyOf(good), writer: "192.0.2.1", expiresAtMs },
    // Dated an hour ahead of the clock.
    {
      key: z32(SecretKey.generate()),
      body: bodyOf(forged, BigInt(clock.wall + 3_600_000) * 1000n),
      writer: "192.0.2.1",
      expiresAtMs,
    },
  ], []);
  file.close();
  // A row of the wrong types, as a hand-edited file could hold.
  const db = new DatabaseSync(path);
  db.prepare("INSERT INTO records VALUES (?, ?, ?, ?)").run("x", "text, not bytes", 7, "soon");
  db.close();

  const store = await open(path, clock);
  assert.equal(store.loaded, 1);
  assert.equal(store.dropped, 5);
  assert.ok(await store.get(good));
  assert.equal(await store.get(forged), undefined);
  assert.equal(await store.get(other), undefined);
  store.close();
  assert.equal(rowCount(path), 1, "the file keeps only what loaded");
});

Deno.test("openPersistentPkarrStore(): the store's bounds hold after a reload with smaller ones", async () => {
  const path = await tempFile();
  const clock = clocks();
  const keys = Array.from({ length: 6 }, () => SecretKey.generate());
  const first = await open(path, clock, { maxRecords: 10 });
  for (const [i, key] of keys.entries()) {
    assert.equal(await first.put(key, bodyOf(key), i < 4 ? "192.0.2.1" : `198.51.100.${i}`), 204);
  }
  first.close();

  // Four records at most, and at most two per address.
  const second = await open(path, clock, { maxRecords: 4, maxRecordsPerAddress: 2 });
  assert.equal(second.loaded, 4);
  assert.equal(second.dropped, 2);
  const served = [];
  for (const key of keys) if (await second.get(key)) served.push(key);
  assert.equal(served.length, 4);
  assert.equal(served.filter((key) => keys.indexOf(key) < 4).length, 2);
  second.close();
  assert.equal(rowCount(path), 4);
  const third = await open(path, clock, { maxRecords: 10 });
  assert.equal(third.loaded, 4);
  third.close();
});

Deno.test("openPersistentPkarrStore(): writes are batched, a replay or a flood writes each record once", async () => {
  const path = await tempFile();
  const store = openPersistentPkarrStore(path, {
    flushIntervalMs: 50,
    rates: {
      addressBurst: 10_000,
      addressPerSecond: 10_000,
      keyBurst: 10_000,
      keyPerSecond: 10_000,
    },
  });
  const put = async (key: SecretKey, body: Uint8Array, from: string) => {
    const response = await store.handler(
      new Request(urlOf(key), { method: "PUT", body: body.slice() }),
      { remoteAddr: { hostname: from } },
    );
    await response.body?.cancel();
    return response.status;
  };
  try {
    const key = SecretKey.generate();
    const body = bodyOf(key);
    const started = performance.now();
    // 200 replays of one record and 200 changes of another, as fast as they come.
    const changing = SecretKey.generate();
    for (let i = 0; i < 200; i++) {
      assert.equal(await put(key, body, `192.0.2.${i % 200}`), 204);
      assert.equal(await put(changing, bodyOf(changing, BigInt(i + 1)), "198.51.100.1"), 204);
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 120));
    const elapsed = performance.now() - started;
    const { batches, rows } = store.writes;
    assert.ok(batches >= 1, "written");
    assert.ok(batches <= Math.ceil(elapsed / 50) + 1, `${batches} batches in ${elapsed} ms`);
    // Each batch holds each changed record once: at most the two keys per batch.
    assert.ok(rows <= 2 * batches, `${rows} rows in ${batches} batches`);
    // Replays change nothing: no batch follows them.
    const before = store.writes.batches;
    for (let i = 0; i < 50; i++) assert.equal(await put(key, body, "192.0.2.1"), 204);
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(store.writes.batches, before);
  } finally {
    store.close();
  }
});

Deno.test("openPersistentPkarrStore(): a corrupt, foreign or oversized file is refused with one line", async () => {
  const garbage = await tempFile();
  await Deno.writeTextFile(garbage, "this is not a database\n".repeat(200), { mode: 0o644 });
  if (Deno.build.os !== "windows") await Deno.chmod(garbage, 0o644);
  assert.throws(
    () => openPersistentPkarrStore(garbage),
    (error: Error) =>
      error instanceof RecordFileError && !error.message.includes("\n") &&
      error.message.includes(garbage) && /not a database/.test(error.message),
  );
  // Refused, not overwritten, its mode kept.
  assert.equal(await Deno.readTextFile(garbage), "this is not a database\n".repeat(200));
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(garbage)).mode! & 0o777, 0o644);

  // A records file whose pages past the header were overwritten.
  const damaged = await tempFile();
  const records = RecordFile.open(damaged, 100);
  records.write(
    Array.from({ length: 40 }, () => SecretKey.generate()).map((key) => ({
      key: endpointIdToZ32(key.endpointId),
      body: bodyOf(key),
      writer: "192.0.2.1",
      expiresAtMs: Date.now() + 60_000,
    })),
    [],
  );
  records.close();
  const bytes = await Deno.readFile(damaged);
  bytes.fill(0xa5, 4096, bytes.length);
  await Deno.writeFile(damaged, bytes);
  assert.throws(
    () => openPersistentPkarrStore(damaged),
    (error: Error) =>
      error instanceof RecordFileError && !error.message.includes("\n") &&
      error.message.startsWith(`Cannot use records file ${damaged}: `),
  );

  const foreign = await tempFile();
  const db = new DatabaseSync(foreign);
  db.exec("CREATE TABLE notes (text TEXT)");
  db.close();
  assert.throws(
    () => openPersistentPkarrStore(foreign),
    /Cannot use records file .*: not a tunnel records file/,
  );

  const oversized = await tempFile();
  const limit = maxRecordFileBytes(2);
  await Deno.writeFile(oversized, new Uint8Array(limit + 1));
  assert.throws(
    () => openPersistentPkarrStore(oversized, { maxRecords: 2 }),
    new RegExp(`${limit + 1} bytes is more than 2 records can take \\(${limit}\\)`),
  );

  const folder = await Deno.makeTempDir();
  assert.throws(() => openPersistentPkarrStore(folder), /not a regular file/);
});

Deno.test("openPersistentPkarrStore(): a second store on the same file is refused while the first is open", async () => {
  const path = await tempFile();
  const first = openPersistentPkarrStore(path);
  try {
    assert.throws(() => openPersistentPkarrStore(path), /Cannot use records file .*locked/);
  } finally {
    first.close();
  }
  openPersistentPkarrStore(path).close();
});

Deno.test("openPersistentPkarrStore(): the store serves while it loads; a write then wins over the older row", async () => {
  const path = await tempFile();
  const wall = Date.now();
  const keys = Array.from({ length: LOAD_SLICE_ROWS * 2 + 10 }, () => SecretKey.generate());
  const rows = keys.map((key) => ({
    key: endpointIdToZ32(key.endpointId),
    body: bodyOf(key, BigInt(wall) * 1000n),
    writer: "192.0.2.1",
    expiresAtMs: wall + 600_000,
  }));
  const file = RecordFile.open(path, 10_000);
  file.write(rows, []);
  file.close();

  const store = openPersistentPkarrStore(path, { maxRecordsPerAddress: 10_000 });
  let loaded = false;
  store.loading.then(() => loaded = true);
  const last = keys[keys.length - 1];
  const newer = bodyOf(last, BigInt(wall + 1) * 1000n);
  const response = await store.handler(
    new Request(urlOf(last), { method: "PUT", body: newer.slice() }),
    { remoteAddr: { hostname: "198.51.100.1" } },
  );
  assert.equal(response.status, 204);
  assert.equal(loaded, false, "answered before the load ended");
  assert.deepEqual(await store.loading, { loaded: keys.length, dropped: 1 });
  const got = await store.handler(new Request(urlOf(last)));
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), newer);
  store.close();

  const reopened = openPersistentPkarrStore(path, { maxRecordsPerAddress: 10_000 });
  assert.deepEqual(await reopened.loading, { loaded: keys.length, dropped: 0 });
  const again = await reopened.handler(new Request(urlOf(last)));
  assert.deepEqual(new Uint8Array(await again.arrayBuffer()), newer);
  reopened.close();
});

Deno.test("openPersistentPkarrStore(): closed while loading, the file keeps the rows not yet read", async () => {
  const path = await tempFile();
  const wall = Date.now();
  const rows = Array.from({ length: LOAD_SLICE_ROWS * 2 }, () => SecretKey.generate()).map((
    key,
  ) => ({
    key: endpointIdToZ32(key.endpointId),
    body: bodyOf(key),
    writer: "192.0.2.1",
    expiresAtMs: wall + 600_000,
  }));
  const file = RecordFile.open(path, 10_000);
  file.write(rows, []);
  file.close();
  const store = openPersistentPkarrStore(path, { maxRecordsPerAddress: 10_000 });
  store.close();
  assert.deepEqual(await store.loading, { loaded: 0, dropped: 0 });
  assert.equal(rowCount(path), rows.length);
});
