/**
 * A pkarr relay's bridge to the Mainline DHT (`tunnel relay --dht`): every
 * record the relay stores is put into the DHT and republished there while the
 * relay still holds it, and a lookup of a key the relay lacks may be asked of
 * the DHT, its answer kept like a stored record. So an endpoint that only
 * knows the relay is findable by DHT clients, and DHT-only publishers by the
 * relay's HTTP and DNS clients.
 *
 * Anonymous clients drive it, so everything is bounded: puts run a few at a
 * time from a due list no longer than the store, and a lookup (dozens of UDP
 * packets for one request) is charged to the asker's network, shared with a
 * few others in flight, and not asked again for a while when it found nothing.
 * @module
 */
import type { EndpointId } from "../identity/mod.ts";
import { addressGroup } from "../net/mod.ts";
import { AddressBuckets } from "./_address_buckets.ts";
import { type RecordDht, recordItemOf, signedPacketOf } from "./dht_records.ts";
import { DHT_REPUBLISH_INTERVAL_MS } from "./publisher.ts";
import { verifySignedPacket } from "./signed_packet.ts";

/** Puts to the DHT at once. */
export const MIRROR_PUTS_IN_FLIGHT = 4;
/** Lookups in the DHT at once, for all clients together; beyond them a miss is a miss. */
export const MIRROR_LOOKUPS_IN_FLIGHT = 8;
/** Lookups one network may start in a burst, then {@linkcode MIRROR_LOOKUPS_PER_SECOND}. */
export const MIRROR_LOOKUP_BURST = 5;
/** Lookups one network may start per second, sustained. */
export const MIRROR_LOOKUPS_PER_SECOND = 0.2;
/** How long a key the DHT had no record for is not asked about again. */
export const MIRROR_NEGATIVE_MS = 60_000;
/** Keys remembered as absent, at most (the oldest are forgotten first). */
export const MIRROR_NEGATIVE_KEYS = 10_000;
/** After a failed put, the next try comes this much later (then the interval). */
export const MIRROR_RETRY_MS = 60_000;

/** Options of {@linkcode DhtMirror}. */
export interface DhtMirrorOptions {
  /** The DHT, through this node. */
  dht: RecordDht;
  /** The relay's live record of a key (undefined once it expired or was evicted). */
  current(z32Key: string): Uint8Array | undefined;
  /** Keys to republish at most (the store's capacity). */
  maxKeys: number;
  /** Detail lines (a summary at most once a minute). */
  log?: (line: string) => void;
  /** Injected for tests: a monotonic clock in ms. */
  now?: () => number;
  /** Injected for tests: how often each record is put again (default {@linkcode DHT_REPUBLISH_INTERVAL_MS}). */
  republishMs?: number;
  /** Injected for tests: how often the due list is looked at (default 1 s). */
  tickMs?: number;
}

/** What a mirror has done, for logs and tests. */
export interface DhtMirrorCounts {
  /** Puts the DHT took. */
  put: number;
  /** Puts no node took. */
  putFailed: number;
  /** Lookups asked of the DHT. */
  looked: number;
  /** Lookups that found a record. */
  found: number;
  /** Lookups refused: the asker's rate, or all slots taken. */
  refused: number;
}

/** See the module documentation. */
export class DhtMirror {
  readonly #options: DhtMirrorOptions;
  readonly #now: () => number;
  readonly #republishMs: number;
  // Insertion order is due order: a key is re-inserted each time it is scheduled.
  // `version` counts the key's stored records: a put learns whether a newer came meanwhile.
  readonly #due = new Map<string, { endpointId: EndpointId; at: number; version: number }>();
  readonly #putting = new Set<string>();
  readonly #looking = new Map<string, Promise<Uint8Array | undefined>>();
  // Insertion order is age: the oldest absent key is forgotten first.
  readonly #absent = new Map<string, number>();
  readonly #askers = new AddressBuckets({
    burst: MIRROR_LOOKUP_BURST,
    perSecond: MIRROR_LOOKUPS_PER_SECOND,
  });
  readonly #timer: ReturnType<typeof setInterval>;
  #closed = false;
  /** What it has done so far. */
  readonly counts: DhtMirrorCounts = { put: 0, putFailed: 0, looked: 0, found: 0, refused: 0 };

  /** Starts the mirror; {@linkcode close} stops it. */
  constructor(options: DhtMirrorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#republishMs = options.republishMs ?? DHT_REPUBLISH_INTERVAL_MS;
    this.#timer = setInterval(() => this.#tick(), options.tickMs ?? 1_000);
    Deno.unrefTimer(this.#timer);
  }

  /** Keys waiting for their next put. */
  get scheduled(): number {
    return this.#due.size;
  }

  /** The relay stored a new record for `z32Key`: it goes to the DHT soon. */
  stored(z32Key: string, endpointId: EndpointId): void {
    if (this.#closed) return;
    this.#absent.delete(z32Key);
    const version = (this.#due.get(z32Key)?.version ?? 0) + 1;
    this.#schedule(z32Key, { endpointId, at: this.#now(), version });
  }

  /**
   * Looks a key the relay lacks up in the DHT, for a client at `address`.
   * @returns the record's signed packet, checked; undefined when the DHT has
   *   none, the lookup failed, or the client or the relay is over its share.
   */
  lookup(z32Key: string, endpointId: EndpointId, address: string): Promise<Uint8Array | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const shared = this.#looking.get(z32Key);
    if (shared) return shared;
    const now = this.#now();
    const absentUntil = this.#absent.get(z32Key);
    if (absentUntil !== undefined) {
      if (absentUntil > now) return Promise.resolve(undefined);
      this.#absent.delete(z32Key);
    }
    if (
      this.#looking.size >= MIRROR_LOOKUPS_IN_FLIGHT ||
      !this.#askers.take(addressGroup(address), now)
    ) {
      this.counts.refused++;
      return Promise.resolve(undefined);
    }
    this.counts.looked++;
    const looking = this.#lookUp(z32Key, endpointId).finally(() => this.#looking.delete(z32Key));
    this.#looking.set(z32Key, looking);
    return looking;
  }

  /** Stops putting and looking up (puts under way finish on their own). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#due.clear();
  }

  async #lookUp(z32Key: string, endpointId: EndpointId): Promise<Uint8Array | undefined> {
    try {
      const item = await this.#options.dht.getMutable(endpointId.bytes);
      if (item) {
        const body = signedPacketOf(item);
        verifySignedPacket(endpointId, body);
        this.counts.found++;
        return body;
      }
    } catch (error) {
      this.#options.log?.(`DHT: lookup of ${z32Key} failed: ${(error as Error).message}`);
    }
    this.#absent.set(z32Key, this.#now() + MIRROR_NEGATIVE_MS);
    if (this.#absent.size > MIRROR_NEGATIVE_KEYS) {
      this.#absent.delete(this.#absent.keys().next().value!);
    }
    return undefined;
  }

  #schedule(
    z32Key: string,
    entry: { endpointId: EndpointId; at: number; version: number },
  ): void {
    this.#due.delete(z32Key);
    if (this.#due.size >= this.#options.maxKeys) {
      // Full: the key longest scheduled makes room (it is put again when stored again).
      this.#due.delete(this.#due.keys().next().value!);
    }
    this.#due.set(z32Key, entry);
  }

  #tick(): void {
    if (this.#closed) return;
    const now = this.#now();
    for (const [key, entry] of this.#due) {
      if (this.#putting.size >= MIRROR_PUTS_IN_FLIGHT) return;
      if (this.#putting.has(key)) continue;
      // Fresh writes (due now) and retries join the end among later
      // republishes, so the list is not in due order: every entry is looked at.
      if (entry.at > now) continue;
      this.#put(key, entry.endpointId, entry.version);
    }
  }

  async #put(z32Key: string, endpointId: EndpointId, version: number): Promise<void> {
    const body = this.#options.current(z32Key);
    if (!body) {
      this.#due.delete(z32Key);
      return;
    }
    this.#putting.add(z32Key);
    let next = this.#republishMs;
    try {
      await this.#options.dht.putMutable(recordItemOf(endpointId.bytes, body));
      this.counts.put++;
    } catch (error) {
      this.counts.putFailed++;
      next = Math.min(MIRROR_RETRY_MS, this.#republishMs);
      this.#options.log?.(`DHT: put of ${z32Key} failed: ${(error as Error).message}`);
    } finally {
      this.#putting.delete(z32Key);
    }
    // A newer record stored meanwhile is due now: leave it so. A key dropped
    // for room stays dropped.
    const entry = this.#due.get(z32Key);
    if (!this.#closed && entry?.version === version) {
      this.#schedule(z32Key, { endpointId, at: this.#now() + next, version });
    }
  }
}
