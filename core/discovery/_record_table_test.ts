import assert from "node:assert/strict";
import {
  DEFAULT_MAX_RECORDS_PER_ADDRESS,
  ENTRY_OVERHEAD_BYTES,
  KEY_WRITE_BURST,
  MAX_FUTURE_MS,
  type PutOutcome,
  RecordTable,
  type RecordWrite,
} from "./_record_table.ts";

const WALL_MS = 1_700_000_000_000;
const NOW_MICROS = BigInt(WALL_MS) * 1000n;

/** A write of `key` by `writer`, its body 100 bytes (its first byte varies with the timestamp). */
function write(key: string, writer: string, fields: Partial<RecordWrite> = {}): RecordWrite {
  const timestampMicros = fields.timestampMicros ?? NOW_MICROS;
  const body = new Uint8Array(100);
  body[0] = Number(timestampMicros % 256n);
  return {
    key,
    body,
    timestampMicros,
    expiresAt: 900_000,
    writer,
    flooding: false,
    ...fields,
  };
}

function refusal(outcome: PutOutcome): string | undefined {
  return outcome.stored ? undefined : outcome.reason;
}

Deno.test("RecordTable: full of one record per address, a new key is refused, none evicted", () => {
  const table = new RecordTable({ maxRecords: 3 });
  for (const [i, key] of ["a", "b", "c"].entries()) {
    assert.ok(table.put(write(key, `10.0.0.${i}`), 0, WALL_MS).stored);
  }
  const outcome = table.put(write("d", "10.0.0.9"), 1, WALL_MS);
  assert.equal(refusal(outcome), "full");
  assert.match((outcome as { message: string }).message, /store is full/);
  for (const key of ["a", "b", "c"]) assert.ok(table.get(key, 1), key);
  // Updating a held key needs no room.
  const newer = write("a", "10.0.0.0", { timestampMicros: NOW_MICROS + 1n });
  assert.ok(table.put(newer, 2, WALL_MS).stored);
});

Deno.test("RecordTable: flooding writers' records go first, oldest first; connected keys' never", () => {
  const connected = new Set(["f0"]);
  const table = new RecordTable({ maxRecords: 4 }, (key) => connected.has(key));
  assert.ok(table.put(write("legit", "10.0.0.1"), 0, WALL_MS).stored);
  for (const key of ["f0", "f1", "f2"]) {
    assert.ok(table.put(write(key, "10.6.6.6"), 0, WALL_MS).stored);
  }
  // Written within its burst, so not yet marked: another flooder is refused.
  const other = write("n0", "10.7.7.7", { flooding: true });
  assert.equal(refusal(table.put(other, 0, WALL_MS)), "full");
  // The address then hits its rate: everything it wrote becomes evictable.
  table.markWriter("10.6.6.6");
  const outcome = table.put(write("n0", "10.0.0.2"), 0, WALL_MS);
  assert.deepEqual(outcome, { stored: true, evicted: 1 });
  assert.ok(table.get("f0", 0), "connected: kept although its writer floods");
  assert.equal(table.get("f1", 0), undefined, "the oldest evictable record went");
  assert.ok(table.put(write("n1", "10.0.0.3"), 0, WALL_MS).stored);
  assert.equal(table.get("f2", 0), undefined);
  // Only the connected record is left of the flooder's: nothing may go.
  assert.equal(refusal(table.put(write("n2", "10.0.0.4"), 0, WALL_MS)), "full");
  connected.clear();
  assert.ok(table.put(write("n2", "10.0.0.4"), 0, WALL_MS).stored, "once disconnected, it may go");
  for (const key of ["legit", "n0", "n1", "n2"]) assert.ok(table.get(key, 0), key);
  assert.equal(table.size, 4);
});

Deno.test("RecordTable: within its rate, a newcomer takes the oldest record of the address holding the most", () => {
  const connected = new Set(["a1"]);
  const table = new RecordTable({ maxRecords: 5 }, (key) => connected.has(key));
  for (const key of ["a1", "a2", "a3", "a4"]) {
    assert.ok(table.put(write(key, "10.0.0.1"), 0, WALL_MS).stored);
  }
  assert.ok(table.put(write("legit", "10.0.0.2"), 0, WALL_MS).stored);
  // A flooder may only displace flooders: the fair share is for writers within their rate.
  const flood = write("f", "10.6.6.6", { flooding: true });
  assert.equal(refusal(table.put(flood, 0, WALL_MS)), "full");
  assert.deepEqual(table.put(write("n1", "10.0.0.3"), 0, WALL_MS), { stored: true, evicted: 1 });
  assert.ok(table.get("a1", 0), "connected: skipped");
  assert.equal(table.get("a2", 0), undefined, "the oldest of the rest went");
  assert.ok(table.put(write("n2", "10.0.0.4"), 0, WALL_MS).stored);
  assert.equal(table.get("a3", 0), undefined);
  // 10.0.0.1 now holds 2, a newcomer 0: two more, so one more goes (a4; a1 is connected).
  assert.ok(table.put(write("n3", "10.0.0.5"), 0, WALL_MS).stored);
  assert.equal(table.get("a4", 0), undefined);
  // Every address now holds one record: nothing may go.
  assert.equal(refusal(table.put(write("n4", "10.0.0.6"), 0, WALL_MS)), "full");
  for (const key of ["a1", "legit", "n1", "n2", "n3"]) assert.ok(table.get(key, 0), key);
});

Deno.test("RecordTable: a record written while its writer floods is evictable at once", () => {
  const table = new RecordTable({ maxRecords: 2 });
  assert.ok(table.put(write("legit", "10.0.0.1"), 0, WALL_MS).stored);
  assert.ok(table.put(write("flood", "10.6.6.6", { flooding: true }), 0, WALL_MS).stored);
  assert.ok(table.put(write("next", "10.0.0.2"), 0, WALL_MS).stored);
  assert.equal(table.get("flood", 0), undefined);
  assert.ok(table.get("legit", 0));
  // Full of records from addresses within their rate: the flooder is refused.
  const again = write("flood", "10.6.6.6", { flooding: true });
  assert.equal(refusal(table.put(again, 0, WALL_MS)), "full");
});

Deno.test("RecordTable: accounted bytes stay within maxBytes", () => {
  const perRecord = 100 + ENTRY_OVERHEAD_BYTES;
  const maxBytes = perRecord * 2 + 10;
  const table = new RecordTable({ maxBytes });
  for (let i = 0; i < 2; i++) {
    assert.ok(table.put(write(`k${i}`, "10.6.6.6", { flooding: true }), 0, WALL_MS).stored);
  }
  assert.equal(table.bytes, perRecord * 2);
  for (let i = 2; i < 50; i++) {
    assert.ok(table.put(write(`k${i}`, "10.6.6.6", { flooding: true }), 0, WALL_MS).stored);
    assert.ok(table.bytes <= maxBytes, `${table.bytes} bytes`);
  }
  assert.equal(table.size, 2);
  const big = { ...write("big", "10.0.0.1"), body: new Uint8Array(1_000) };
  assert.equal(refusal(table.put(big, 0, WALL_MS)), "full", "not even evicting both makes room");
  assert.equal(table.size, 2, "a refused write evicts nothing");
});

Deno.test("RecordTable: one address holds at most its share", () => {
  const table = new RecordTable({ maxRecordsPerAddress: 2 });
  assert.ok(table.put(write("a", "10.0.0.1"), 0, WALL_MS).stored);
  assert.ok(table.put(write("b", "10.0.0.1"), 0, WALL_MS).stored);
  const outcome = table.put(write("c", "10.0.0.1"), 0, WALL_MS);
  assert.equal(refusal(outcome), "address-full");
  assert.match((outcome as { message: string }).message, /holds 2 records/);
  assert.ok(
    table.put(write("a", "10.0.0.1", { timestampMicros: NOW_MICROS + 1n }), 0, WALL_MS).stored,
  );
  assert.ok(table.put(write("c", "10.0.0.2"), 0, WALL_MS).stored);
  assert.equal(table.heldBy("10.0.0.1"), 2);
  // Once its records expire, the address has room again.
  assert.ok(table.put(write("d", "10.0.0.1", { expiresAt: 2_000_000 }), 1_000_000, WALL_MS).stored);
  assert.equal(table.heldBy("10.0.0.1"), 1);
  assert.equal(DEFAULT_MAX_RECORDS_PER_ADDRESS, 1_000);
});

Deno.test("RecordTable: a key changes its record at a bounded rate; replays cost nothing", () => {
  const table = new RecordTable();
  let timestamp = NOW_MICROS;
  const change = (now: number) =>
    table.put(write("k", "10.0.0.1", { timestampMicros: ++timestamp }), now, WALL_MS);
  for (let i = 0; i < KEY_WRITE_BURST; i++) assert.ok(change(0).stored, `change ${i}`);
  const stored = write("k", "10.0.0.1", { timestampMicros: timestamp });
  // Anyone can replay the stored bytes: accepted, and the owner's budget is untouched.
  for (let i = 0; i < 5; i++) assert.ok(table.put(stored, 0, WALL_MS).stored);
  const outcome = change(0);
  assert.equal(refusal(outcome), "key-rate");
  assert.match((outcome as { message: string }).message, /one per 10 s/);
  assert.equal(refusal(change(9_999)), "key-rate");
  assert.ok(change(10_000).stored, "one change per 10 s comes back");
});

Deno.test("RecordTable: a timestamp far ahead is refused, and the owner can still update", () => {
  const table = new RecordTable();
  const far = write("k", "10.0.0.1", { timestampMicros: 1n << 63n });
  const outcome = table.put(far, 0, WALL_MS);
  assert.equal(refusal(outcome), "future");
  assert.match((outcome as { message: string }).message, /ahead of the relay's clock/);
  const justAhead = NOW_MICROS + BigInt(MAX_FUTURE_MS) * 1000n;
  assert.ok(table.put(write("k", "10.0.0.1", { timestampMicros: justAhead }), 0, WALL_MS).stored);
  const tooFar = justAhead + 1000n;
  assert.equal(
    refusal(table.put(write("j", "10.0.0.1", { timestampMicros: tooFar }), 0, WALL_MS)),
    "future",
  );
  const older = write("k", "10.0.0.1", { timestampMicros: NOW_MICROS + 5n });
  assert.equal(refusal(table.put(older, 0, WALL_MS)), "stale");
});

Deno.test("RecordTable: expired records make room before anything is evicted", () => {
  const table = new RecordTable({ maxRecords: 2 });
  assert.ok(table.put(write("old", "10.0.0.1", { expiresAt: 100 }), 0, WALL_MS).stored);
  assert.ok(table.put(write("kept", "10.0.0.1", { expiresAt: 10_000 }), 0, WALL_MS).stored);
  assert.ok(table.put(write("new", "10.0.0.2"), 5_000, WALL_MS).stored);
  assert.equal(table.get("old", 5_000), undefined);
  assert.ok(table.get("kept", 5_000));
  assert.equal(table.heldBy("10.0.0.1"), 1);
  assert.throws(() => new RecordTable({ maxRecords: 0 }), RangeError);
});

Deno.test("RecordTable.takeChanges(): each changed key once, with its record now or none", () => {
  const untracked = new RecordTable({ maxRecords: 2 });
  assert.ok(untracked.put(write("a", "10.0.0.1"), 0, WALL_MS).stored);
  assert.deepEqual(untracked.takeChanges(), [], "nothing accumulates unless asked for");

  const table = new RecordTable({ maxRecords: 2, maxRecordsPerAddress: 2 }, undefined, true);
  assert.equal(table.hasChanges, false);
  assert.ok(table.put(write("a", "10.0.0.1"), 0, WALL_MS).stored);
  assert.ok(
    table.put(write("a", "10.0.0.1", { timestampMicros: NOW_MICROS + 1n }), 1, WALL_MS).stored,
  );
  assert.ok(table.put(write("b", "10.0.0.1"), 2, WALL_MS).stored);
  assert.equal(table.hasChanges, true);
  const changes = table.takeChanges();
  assert.deepEqual(changes.map((change) => change.key), ["a", "b"]);
  assert.equal(changes[0].record?.body[0], Number((NOW_MICROS + 1n) % 256n), "the newest version");
  assert.equal(changes[0].record?.writer, "10.0.0.1");
  assert.deepEqual(table.takeChanges(), []);

  // A replay changes nothing; an eviction and an expiry are removals.
  assert.ok(table.put(write("b", "10.0.0.1"), 3, WALL_MS).stored);
  assert.deepEqual(table.takeChanges(), []);
  assert.ok(table.put(write("c", "10.0.0.2"), 4, WALL_MS).stored);
  assert.deepEqual(
    table.takeChanges().map(({ key, record }) => [key, record !== undefined]),
    [["a", false], ["c", true]],
  );
  assert.equal(table.get("b", 900_000), undefined);
  assert.deepEqual(table.takeChanges(), [{ key: "b" }]);
});
