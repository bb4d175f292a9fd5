import assert from "node:assert/strict";
import { PEER_TTL_MS, PeerStore } from "./peer_store.ts";

const hash = (n: number) => new Uint8Array(20).fill(n);

Deno.test("peer store: one entry per IP, most recent first, expiry", () => {
  const clock = { ms: 0 };
  const store = new PeerStore({ now: () => clock.ms });
  store.announce(hash(1), { hostname: "192.0.2.1", port: 1 });
  store.announce(hash(1), { hostname: "192.0.2.2", port: 2 });
  store.announce(hash(1), { hostname: "192.0.2.1", port: 3 });
  assert.deepEqual(store.peers(hash(1)), [{ hostname: "192.0.2.1", port: 3 }, {
    hostname: "192.0.2.2",
    port: 2,
  }]);
  assert.deepEqual(store.peers(hash(2)), []);
  clock.ms += PEER_TTL_MS;
  assert.deepEqual(store.peers(hash(1)), []);
  assert.equal(store.torrentCount, 0);
});

Deno.test("peer store: bounded per torrent and in torrents under a flood", () => {
  const store = new PeerStore({ maxTorrents: 20, maxPeersPerTorrent: 5 });
  const ip = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.1`;
  for (let i = 0; i < 10_000; i++) store.announce(hash(i % 20), { hostname: ip(i), port: 6881 });
  assert.equal(store.torrentCount, 20);
  assert.equal(store.size, 100, "5 peers for each of 20 torrents");
  assert.deepEqual(store.peers(hash(19), 2).map((peer) => peer.hostname), [ip(9999), ip(9979)]);
  for (let i = 100; i < 200; i++) store.announce(hash(i), { hostname: ip(i), port: 6881 });
  assert.equal(store.torrentCount, 20, "new torrents push the least recently announced out");
  assert.deepEqual(store.peers(hash(19)), []);
  assert.equal(store.peers(hash(199)).length, 1);
});

Deno.test("peer store: sweep drops expired peers and empty torrents", () => {
  const clock = { ms: 0 };
  const store = new PeerStore({ now: () => clock.ms, ttlMs: 10 });
  store.announce(hash(1), { hostname: "192.0.2.1", port: 1 });
  clock.ms = 5;
  store.announce(hash(2), { hostname: "192.0.2.1", port: 1 });
  clock.ms = 10;
  store.sweep();
  assert.equal(store.torrentCount, 1);
  assert.equal(store.size, 1);
});
