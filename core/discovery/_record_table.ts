/**
 * The pkarr store's records and who may displace whom (sans-IO: time comes in).
 *
 * Bounded in count and in accounted bytes. When a write needs room, expired
 * records go first; then records marked as a flooder's (written by an
 * address that hit its rate limit, or since), oldest first; then, only for a
 * writer within its rate, the oldest record of the address holding the most,
 * while that address still holds at least two more than the writer. A record
 * whose key is connected to the relay is never evicted, nor is the only
 * record of an address, nor anything to make room for a flooder beyond other
 * flooders' records: when nothing may go, the write is refused ("full").
 * Each address holds at most a share of the store, and each key changes its
 * record at a bounded rate (only the key's owner can spend that budget:
 * replays of the stored record change nothing and cost nothing).
 * @module
 */

import { WriterIndex } from "./_writer_index.ts";

/** Records held by default. */
export const DEFAULT_MAX_RECORDS = 100_000;
/**
 * Accounted bytes held by default: a body (at most 1,072 bytes; iroh's records
 * are ~200) plus {@linkcode ENTRY_OVERHEAD_BYTES} each. 100,000 records of
 * iroh's size fit (~71 MB accounted); ~63,000 of the largest.
 */
export const DEFAULT_MAX_BYTES = 96 << 20;
/**
 * What a record costs beyond its body: its entry, timestamp, its key (52
 * characters) in the table, its address's set and maybe the flood list.
 * Measured (heap after GC, 100,000 records of 200 bytes in a `RecordTable`)
 * 215 bytes of V8 heap per record when 100 addresses hold them and 441 when
 * each has its own address; 512 leaves margin.
 */
export const ENTRY_OVERHEAD_BYTES = 512;
/**
 * Records one address (IPv4, or IPv6 /64) may hold: far more servers than sit
 * behind one NAT, and it takes 100 addresses to fill the default store.
 */
export const DEFAULT_MAX_RECORDS_PER_ADDRESS = 1_000;
/** Record changes in a burst per key: a server restarting with its relay reconnecting. */
export const KEY_WRITE_BURST = 10;
/** Record changes per second per key, sustained: one per 10 s (servers publish every 5 min). */
export const KEY_WRITES_PER_SECOND = 0.1;
/**
 * How far ahead of the relay's clock a record's timestamp may be. Records must
 * get newer; one dated in the far future (2^63 µs) would lock its owner out
 * until it expired. Five minutes forgives a publisher's clock being a bit fast.
 */
export const MAX_FUTURE_MS = 5 * 60_000;
/** Expired records are swept at most this often when room is needed (a sweep visits all). */
const SWEEP_INTERVAL_MS = 1_000;
/**
 * Marked records looked at per eviction. Connected keys' records are skipped
 * and moved to the back, so repeated evictions do not look at them again.
 */
const MAX_EVICTION_SCAN = 64;

/** The table's limits; all optional, defaults above. */
export interface RecordTableLimits {
  /** Records held. */
  maxRecords?: number;
  /** Accounted bytes held (body plus {@linkcode ENTRY_OVERHEAD_BYTES} each). */
  maxBytes?: number;
  /** Records one address may hold. */
  maxRecordsPerAddress?: number;
  /** Record changes in a burst per key. */
  keyBurst?: number;
  /** Record changes per second per key. */
  keyPerSecond?: number;
}

/** A write, checked for signature and size already. */
export interface RecordWrite {
  /** The key (z32), the table's index. */
  key: string;
  /** The signed packet, stored and served as is. */
  body: Uint8Array;
  /** The record's timestamp (µs since the epoch), from the signed body. */
  timestampMicros: bigint;
  /** When the record expires, on the monotonic clock (ms). */
  expiresAt: number;
  /** The writer's network (IPv4 address or IPv6 /64). */
  writer: string;
  /** Whether the writer is flooding now: the record is marked evictable. */
  flooding: boolean;
}

/** Why a write was refused. */
export type RecordRefusal = "stale" | "future" | "key-rate" | "address-full" | "full";

/** A record as a persistent copy holds it. */
export interface HeldRecord {
  /** The signed packet. */
  body: Uint8Array;
  /** The writer's network. */
  writer: string;
  /** When it expires, on the monotonic clock (ms). */
  expiresAt: number;
}

/** A key whose record changed since the last {@linkcode RecordTable.takeChanges}: its record now, or none. */
export interface RecordChange {
  /** The key (z32). */
  key: string;
  /** The record held now; undefined when it was removed (expired, evicted). */
  record?: HeldRecord;
}

/** What became of a write. */
export type PutOutcome =
  | { stored: true; evicted: number }
  | { stored: false; reason: RecordRefusal; message: string };

interface Entry {
  body: Uint8Array;
  timestampMicros: bigint;
  expiresAt: number;
  writer: string;
  keyTokens: number;
  keyLast: number;
}

/** Records by key, with the bookkeeping that decides eviction. */
export class RecordTable {
  readonly #entries = new Map<string, Entry>();
  /** Keys held per writer network, and who holds the most. */
  readonly #writers = new WriterIndex();
  /** Keys evictable (written by or since marked as a flooding writer), oldest first. */
  readonly #marked = new Set<string>();
  /** Writers whose every record is in {@linkcode #marked} (marking again costs nothing). */
  readonly #allMarked = new Set<string>();
  readonly #isConnected: (key: string) => boolean;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #maxPerWriter: number;
  readonly #keyBurst: number;
  readonly #keyPerSecond: number;
  /** Keys changed since the last {@linkcode takeChanges}; undefined: nobody asks. */
  readonly #changed: Set<string> | undefined;
  #bytes = 0;
  #sweptAt = -Infinity;

  /**
   * @param limits Capacity and rates.
   * @param isConnected Whether a key (z32) is connected to the relay: its record is never evicted.
   * @param trackChanges Whether to keep the keys changed for {@linkcode takeChanges}
   *   (a persistent copy); off, nothing accumulates.
   * @throws {RangeError} for a limit that is not positive.
   */
  constructor(
    limits: RecordTableLimits = {},
    isConnected: (key: string) => boolean = () => false,
    trackChanges = false,
  ) {
    this.#maxRecords = limits.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.#maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#maxPerWriter = limits.maxRecordsPerAddress ?? DEFAULT_MAX_RECORDS_PER_ADDRESS;
    this.#keyBurst = limits.keyBurst ?? KEY_WRITE_BURST;
    this.#keyPerSecond = limits.keyPerSecond ?? KEY_WRITES_PER_SECOND;
    for (
      const [name, value] of Object.entries({
        maxRecords: this.#maxRecords,
        maxBytes: this.#maxBytes,
        maxRecordsPerAddress: this.#maxPerWriter,
        keyBurst: this.#keyBurst,
        keyPerSecond: this.#keyPerSecond,
      })
    ) {
      if (!(value > 0)) {
        throw new RangeError(`Cannot create pkarr store: ${name} ${value} is not positive`);
      }
    }
    this.#isConnected = isConnected;
    this.#changed = trackChanges ? new Set() : undefined;
  }

  /**
   * The keys whose record was stored or removed since the last call, each with
   * its record now: a key changed many times is one change. Empty unless the
   * table tracks changes.
   */
  takeChanges(): RecordChange[] {
    if (!this.#changed) return [];
    const changes: RecordChange[] = [];
    for (const key of this.#changed) {
      const entry = this.#entries.get(key);
      changes.push(
        entry
          ? { key, record: { body: entry.body, writer: entry.writer, expiresAt: entry.expiresAt } }
          : { key },
      );
    }
    this.#changed.clear();
    return changes;
  }

  /** Every record held that has not expired at `now`. */
  *records(now: number): Generator<{ key: string; record: HeldRecord }> {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) continue;
      yield { key, record: { body: entry.body, writer: entry.writer, expiresAt: entry.expiresAt } };
    }
  }

  /** Whether changes wait for {@linkcode takeChanges}. */
  get hasChanges(): boolean {
    return (this.#changed?.size ?? 0) > 0;
  }

  /** Records held (expired ones included until they are swept or asked for). */
  get size(): number {
    return this.#entries.size;
  }

  /** Accounted bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records held by `writer`. */
  heldBy(writer: string): number {
    return this.#writers.held(writer);
  }

  /** The live record of `key` at `now`. */
  get(key: string, now: number): Uint8Array | undefined {
    return this.#live(key, now)?.body;
  }

  /**
   * Marks every record of `writer` as evictable: it was found flooding, so what
   * it wrote in its burst goes as early as what it writes now.
   */
  markWriter(writer: string): void {
    if (this.#allMarked.has(writer) || this.#writers.held(writer) === 0) return;
    for (const key of this.#writers.keys(writer)) this.#marked.add(key);
    this.#allMarked.add(writer);
  }

  /**
   * Stores `write` if it is newer than the held record, within its key's rate,
   * and there is room or room can be made.
   * @param write The record.
   * @param now The monotonic clock (ms).
   * @param wallClockMs The wall clock (ms since the epoch), for the timestamp's bound.
   */
  put(write: RecordWrite, now: number, wallClockMs: number): PutOutcome {
    const aheadMs = Number(write.timestampMicros / 1000n) - wallClockMs;
    if (aheadMs > MAX_FUTURE_MS) {
      return refuse(
        "future",
        `Cannot store record: its timestamp is ${
          Math.round(aheadMs / 1000)
        } s ahead of the relay's clock (at most ${
          MAX_FUTURE_MS / 1000
        } s); check the publisher's clock`,
      );
    }
    const held = this.#live(write.key, now);
    if (held && isSameBody(held.body, write.body)) return { stored: true, evicted: 0 };
    if (held && write.timestampMicros <= held.timestampMicros) {
      return refuse(
        "stale",
        `Cannot store record: timestamp ${write.timestampMicros} is not newer than the stored ${held.timestampMicros}`,
      );
    }
    let keyTokens = this.#keyBurst;
    if (held) {
      const refill = Math.max(0, now - held.keyLast) / 1000 * this.#keyPerSecond;
      keyTokens = Math.min(this.#keyBurst, held.keyTokens + refill);
    }
    if (keyTokens < 1) {
      return refuse(
        "key-rate",
        `Cannot store record: this key changed its record ${this.#keyBurst} times recently (at most one per ${
          1 / this.#keyPerSecond
        } s); try again later`,
      );
    }
    if (held?.writer !== write.writer && this.#heldLive(write.writer, now) >= this.#maxPerWriter) {
      return refuse(
        "address-full",
        `Cannot store record: this address holds ${this.#maxPerWriter} records, the most one address may`,
      );
    }
    const cost = write.body.length + ENTRY_OVERHEAD_BYTES;
    const room = this.#makeRoom(write, held ? 0 : 1, cost - (held ? entryCost(held) : 0), now);
    if (room === undefined) {
      return refuse(
        "full",
        "Cannot store record: the store is full and holds no record that may be evicted; try again later",
      );
    }
    if (held) this.#delete(write.key);
    this.#entries.set(write.key, {
      body: write.body.slice(),
      timestampMicros: write.timestampMicros,
      expiresAt: write.expiresAt,
      writer: write.writer,
      keyTokens: keyTokens - 1,
      keyLast: now,
    });
    this.#bytes += cost;
    this.#writers.add(write.writer, write.key);
    this.#changed?.add(write.key);
    if (write.flooding) this.#marked.add(write.key);
    else this.#allMarked.delete(write.writer);
    return { stored: true, evicted: room };
  }

  /**
   * Frees room for `addCount` more records and `addBytes` more bytes, never
   * evicting the key written. @returns how many records were evicted, or
   * `undefined` when not enough may go (then nothing was evicted that had not expired).
   */
  #makeRoom(
    write: RecordWrite,
    addCount: number,
    addBytes: number,
    now: number,
  ): number | undefined {
    const fits = () =>
      this.#entries.size + addCount <= this.#maxRecords && this.#bytes + addBytes <= this.#maxBytes;
    if (fits()) return 0;
    if (now - this.#sweptAt >= SWEEP_INTERVAL_MS) {
      this.#sweptAt = now;
      for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#delete(key);
      if (fits()) return 0;
    }
    // Find enough evictable records before evicting any: a refused write changes nothing.
    const victims = new Set<string>();
    let count = this.#entries.size + addCount;
    let bytes = this.#bytes + addBytes;
    const needed = () => count > this.#maxRecords || bytes > this.#maxBytes;
    const take = (key: string) => {
      victims.add(key);
      count--;
      bytes -= entryCost(this.#entries.get(key)!);
    };
    let scanned = 0;
    // First flooders' records, oldest first. Live iteration: a key moved to
    // the back may come round again, within the scan's bound.
    for (const key of this.#marked) {
      if (!needed() || ++scanned > MAX_EVICTION_SCAN) break;
      if (key === write.key) continue;
      if (this.#isConnected(key)) {
        // Kept; to the back, so the next eviction starts past it.
        this.#marked.delete(key);
        this.#marked.add(key);
        continue;
      }
      take(key);
    }
    // Then, for a writer within its rate, a fair share: the address holding the
    // most records gives up its oldest, while it still holds at least two more
    // than the writer. So an address holding one record never loses it, and
    // one pacing itself under the rate limit cannot keep newcomers out.
    const heaviest = this.#writers.heaviest();
    if (needed() && !write.flooding && heaviest !== undefined && heaviest !== write.writer) {
      const floor = this.#writers.held(write.writer) + 2;
      let held = this.#writers.held(heaviest);
      for (const key of victims) if (this.#entries.get(key)!.writer === heaviest) held--;
      scanned = 0;
      for (const key of this.#writers.keys(heaviest)) {
        if (!needed() || held < floor || ++scanned > MAX_EVICTION_SCAN) break;
        if (key === write.key || victims.has(key)) continue;
        if (this.#isConnected(key)) {
          this.#writers.moveToBack(heaviest, key);
          continue;
        }
        take(key);
        held--;
      }
    }
    if (needed()) return undefined;
    for (const key of victims) this.#delete(key);
    return victims.size;
  }

  /** Records `writer` holds that have not expired (expired ones are dropped on the way). */
  #heldLive(writer: string, now: number): number {
    if (this.#writers.held(writer) < this.#maxPerWriter) return this.#writers.held(writer);
    for (const key of [...this.#writers.keys(writer)]) this.#live(key, now);
    return this.#writers.held(writer);
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= now) {
      this.#delete(key);
      return undefined;
    }
    return entry;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#changed?.add(key);
    this.#bytes -= entryCost(entry);
    this.#marked.delete(key);
    this.#writers.remove(entry.writer, key);
    if (this.#writers.held(entry.writer) === 0) this.#allMarked.delete(entry.writer);
  }
}

function entryCost(entry: Entry): number {
  return entry.body.length + ENTRY_OVERHEAD_BYTES;
}

function refuse(reason: RecordRefusal, message: string): PutOutcome {
  return { stored: false, reason, message };
}

function isSameBody(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
