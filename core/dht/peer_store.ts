/**
 * Peers announced for torrents (BEP 5's announce_peer), sans-IO and bounded:
 * one address per IP and info-hash (an IP's newer announce replaces its older
 * one), at most `maxPeersPerTorrent` per info-hash and `maxTorrents` info-hashes
 * (the least recently announced leave first), each peer 30 minutes after its
 * last announce.
 * @module
 */
import type { DhtPeerAddress } from "./krpc.ts";
import { toHex } from "./node_id.ts";

/** How long an announced peer is kept (ms): BEP 5 leaves it open; 30 minutes as common clients. */
export const PEER_TTL_MS = 30 * 60_000;

/** Options of a {@linkcode PeerStore}. */
export interface PeerStoreOptions {
  /** Info-hashes kept; default 500. */
  maxTorrents?: number;
  /** Peers kept per info-hash; default 50 (what one get_peers answer carries). */
  maxPeersPerTorrent?: number;
  /** Peer lifetime (ms); default {@linkcode PEER_TTL_MS}. */
  ttlMs?: number;
  /** Current time in ms; default `Date.now`. */
  now?: () => number;
}

/** Announced peers by info-hash. */
export class PeerStore {
  readonly #maxTorrents: number;
  readonly #maxPeers: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** Info-hash hex to (IP to peer), each map's order being recency. */
  readonly #torrents = new Map<
    string,
    Map<string, { address: DhtPeerAddress; expiresAt: number }>
  >();

  /** @param options Bounds and clock. */
  constructor(options: PeerStoreOptions = {}) {
    this.#maxTorrents = options.maxTorrents ?? 500;
    this.#maxPeers = options.maxPeersPerTorrent ?? 50;
    this.#ttlMs = options.ttlMs ?? PEER_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Peers kept, over every info-hash. */
  get size(): number {
    let count = 0;
    for (const peers of this.#torrents.values()) count += peers.size;
    return count;
  }

  /** Info-hashes kept. */
  get torrentCount(): number {
    return this.#torrents.size;
  }

  /** Records that `address` (whose IP sent the announce) has the torrent. */
  announce(infoHash: Uint8Array, address: DhtPeerAddress): void {
    const key = toHex(infoHash);
    const peers = this.#torrents.get(key) ?? new Map();
    this.#torrents.delete(key); // re-inserted last: most recently announced
    peers.delete(address.hostname);
    peers.set(address.hostname, { address: { ...address }, expiresAt: this.#now() + this.#ttlMs });
    if (peers.size > this.#maxPeers) peers.delete(peers.keys().next().value!);
    this.#torrents.set(key, peers);
    if (this.#torrents.size > this.#maxTorrents) {
      this.#torrents.delete(this.#torrents.keys().next().value!);
    }
  }

  /** Live peers of the torrent, most recent first, at most `limit`. */
  peers(infoHash: Uint8Array, limit = this.#maxPeers): DhtPeerAddress[] {
    const key = toHex(infoHash);
    const peers = this.#torrents.get(key);
    if (!peers) return [];
    const now = this.#now();
    for (const [ip, peer] of peers) if (peer.expiresAt <= now) peers.delete(ip);
    if (peers.size === 0) {
      this.#torrents.delete(key);
      return [];
    }
    return [...peers.values()].reverse().slice(0, limit).map((peer) => ({ ...peer.address }));
  }

  /** Drops expired peers and empty torrents. */
  sweep(): void {
    const now = this.#now();
    for (const [key, peers] of this.#torrents) {
      for (const [ip, peer] of peers) if (peer.expiresAt <= now) peers.delete(ip);
      if (peers.size === 0) this.#torrents.delete(key);
    }
  }
}
