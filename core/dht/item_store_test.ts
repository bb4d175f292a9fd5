import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeBencode } from "./bencode.ts";
import { ITEM_TTL_MS, ItemStore } from "./item_store.ts";
import {
  type EncodedMutableItem,
  immutableTarget,
  mutableTarget,
  signMutableItem,
} from "./mutable_item.ts";

const encoder = new TextEncoder();
const secret = ed25519.utils.randomSecretKey();

function encoded(seq: bigint, text: string, salt?: Uint8Array): EncodedMutableItem {
  const item = signMutableItem(secret, seq, encoder.encode(text), salt);
  const { value, ...rest } = item;
  return { ...rest, encodedValue: encodeBencode(value) };
}

Deno.test("item store: keeps a signed item, refuses a bad signature (206) without storing", () => {
  const store = new ItemStore();
  const item = encoded(5n, "hello");
  assert.equal(store.putMutable(item), undefined);
  const stored = store.get(mutableTarget(item.publicKey));
  assert.equal(stored?.kind === "mutable" && stored.seq, 5n);
  const forged = { ...item, seq: 6n, encodedValue: encodeBencode(encoder.encode("evil")) };
  assert.equal(store.putMutable(forged)?.code, 206);
  const after = store.get(mutableTarget(item.publicKey));
  assert.equal(after?.kind === "mutable" && after.seq, 5n);
});

Deno.test("item store: seq rollback 302, same seq other value 302, same item renews, cas 301", () => {
  const clock = { ms: 0 };
  const store = new ItemStore({ now: () => clock.ms });
  assert.equal(store.putMutable(encoded(10n, "ten")), undefined);
  assert.equal(store.putMutable(encoded(9n, "nine"))?.code, 302);
  assert.equal(store.putMutable(encoded(10n, "other ten"))?.code, 302);
  clock.ms += ITEM_TTL_MS - 1;
  assert.equal(store.putMutable(encoded(10n, "ten")), undefined, "the same item again renews it");
  clock.ms += ITEM_TTL_MS - 1;
  assert.ok(store.get(mutableTarget(ed25519.getPublicKey(secret))), "alive thanks to the renewal");
  assert.equal(store.putMutable(encoded(11n, "eleven"), 9n)?.code, 301);
  assert.equal(store.putMutable(encoded(11n, "eleven"), 10n), undefined);
});

Deno.test("item store: items expire after 2 hours without a put", () => {
  const clock = { ms: 0 };
  const store = new ItemStore({ now: () => clock.ms });
  store.putMutable(encoded(1n, "x"));
  const value = encodeBencode(encoder.encode("immutable"));
  store.putImmutable(value);
  clock.ms += ITEM_TTL_MS;
  assert.equal(store.get(mutableTarget(ed25519.getPublicKey(secret))), undefined);
  store.sweep();
  assert.equal(store.size, 0);
  assert.equal(store.bytes, 0);
  assert.equal(store.get(immutableTarget(value)), undefined);
});

Deno.test("item store: bounded in count and bytes; the least recently stored leaves first", () => {
  const store = new ItemStore({ maxItems: 10, maxBytes: 4000 });
  const values = Array.from({ length: 30 }, (_, i) => encodeBencode(encoder.encode(`value ${i}`)));
  for (const value of values) assert.equal(store.putImmutable(value), undefined);
  assert.equal(store.size, 10);
  assert.equal(store.get(immutableTarget(values[0])), undefined);
  assert.ok(store.get(immutableTarget(values[29])));
  const bytesBound = new ItemStore({ maxItems: 1000, maxBytes: 3000 });
  for (let i = 0; i < 20; i++) bytesBound.putImmutable(encodeBencode(new Uint8Array(900).fill(i)));
  assert.ok(bytesBound.bytes <= 3000);
  assert.equal(bytesBound.size, 3);
  assert.equal(bytesBound.putImmutable(encodeBencode(new Uint8Array(997)))?.code, 205);
});

Deno.test("item store: salted items are apart from unsalted ones", () => {
  const store = new ItemStore();
  const salt = encoder.encode("s");
  store.putMutable(encoded(1n, "plain"));
  store.putMutable(encoded(1n, "salted", salt));
  assert.equal(store.size, 2);
  const salted = store.get(mutableTarget(ed25519.getPublicKey(secret), salt));
  assert.deepEqual(salted?.kind === "mutable" && salted.salt, salt);
});
