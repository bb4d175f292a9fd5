import assert from "node:assert/strict";
import { keyBytes, keyString, RelayRegistry } from "./registry.ts";

const client = (key: string, name: string) => ({ key, name });

Deno.test("RelayRegistry: a second connection of a key takes over; the first returns when it leaves", () => {
  const registry = new RelayRegistry<{ key: string; name: string }>();
  const first = client("k", "first");
  const second = client("k", "second");
  assert.equal(registry.add(first), undefined);
  assert.equal(registry.add(second), first);
  assert.equal(registry.active("k"), second);
  assert.deepEqual(registry.remove(second), { gone: false, peers: [], reactivated: first });
  assert.equal(registry.active("k"), first);
  assert.deepEqual(registry.remove(first), { gone: true, peers: [] });
  assert.equal(registry.size, 0);
});

Deno.test("RelayRegistry: an inactive connection leaving changes nothing for the active one", () => {
  const registry = new RelayRegistry<{ key: string; name: string }>();
  const first = client("k", "first");
  const second = client("k", "second");
  registry.add(first);
  registry.add(second);
  assert.deepEqual(registry.remove(first), { gone: false, peers: [], reactivated: undefined });
  assert.equal(registry.active("k"), second);
  assert.deepEqual(registry.remove(first), { gone: false, peers: [] });
});

Deno.test("RelayRegistry remembers whom a client sent to, once each", () => {
  const registry = new RelayRegistry<{ key: string; name: string }>();
  const a = client("a", "a");
  registry.add(a);
  registry.noteSent(a, "b");
  registry.noteSent(a, "c");
  registry.noteSent(a, "b");
  assert.deepEqual(registry.remove(a).peers, ["b", "c"]);
});

Deno.test("keyString() and keyBytes() round-trip every byte value", () => {
  const key = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(keyBytes(keyString(key)), key);
  assert.equal(keyString(key.subarray(0, 32)).length, 32);
});
