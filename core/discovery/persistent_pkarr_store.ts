/**
 * The pkarr store of `pkarr_store.ts`, kept in a records file
 * (`record_file.ts`) so that a relay restart loses no record.
 *
 * The file is opened and checked at once (a file that cannot be used is
 * refused before anything is served); its rows are loaded while the store
 * already serves, {@linkcode LOAD_SLICE_ROWS} at a time: a signature check
 * costs 0.5-0.8 ms, so a full store (100,000 records) takes about a minute, which
 * the relay should not spend deaf. Until a key's row is loaded, a GET of it
 * answers 404 and a PUT is stored as usual (the older row, when loaded, is
 * then refused as stale). Each row is checked as a PUT would be (key, size,
 * signature, timestamp not ahead of the clock) and stored through the same
 * table, so the capacity, the per-address share and the expiry hold as
 * before: a row that fails a check, has expired or finds no room is dropped,
 * and when all are loaded the file is rewritten to hold what the store does.
 *
 * Writes are batched: at most one transaction per
 * {@linkcode RECORD_FLUSH_INTERVAL_MS}, holding each record changed since the
 * last one once, however often it changed; a write that changed nothing (a
 * replay) writes nothing. Expiry is kept on the wall clock in the file, and
 * never extended past a fresh write's lifetime.
 * @module
 */
import { DEFAULT_MAX_RECORDS, type RecordChange } from "./_record_table.ts";
import {
  _createPkarrStore,
  _recordLifetimeMs,
  type PkarrRequestInfo,
  type PkarrStoreOptions,
} from "./pkarr_store.ts";
import { RecordFile, RecordFileError, type StoredRecord } from "./record_file.ts";
import { _openSignedPacket, SignedPacketError } from "./signed_packet.ts";
import { endpointIdFromZ32 } from "./z32.ts";

/** Most time between a stored record and its write to the file (ms): a crash loses at most this. */
export const RECORD_FLUSH_INTERVAL_MS = 1_000;
/** Rows loaded between two turns of the event loop (~50 ms of signature checks: relayed traffic waits no longer). */
export const LOAD_SLICE_ROWS = 64;
/** A failing write (disk full) is reported at most this often; it is retried with the next batch. */
const WRITE_FAILURE_LOG_INTERVAL_MS = 60_000;

/** Options of {@linkcode openPersistentPkarrStore}: the store's, and how often to write. */
export interface PersistentPkarrStoreOptions extends PkarrStoreOptions {
  /** Batching interval (ms). Default {@linkcode RECORD_FLUSH_INTERVAL_MS}. */
  flushIntervalMs?: number;
}

/** What loading the file found. */
export interface RecordFileLoad {
  /** Records the store holds once loaded (those written meanwhile too). */
  loaded: number;
  /** Rows not loaded: failed a check, expired, found no room, or older than a record written meanwhile. */
  dropped: number;
}

/** A pkarr store backed by a records file. */
export interface PersistentPkarrStore {
  /** The HTTP handler, as {@linkcode createPkarrHandler}'s. */
  handler: (request: Request, info?: PkarrRequestInfo) => Promise<Response>;
  /** The live signed packet of a key in z32 (the DNS face answers from it). */
  lookup: (z32Key: string) => Uint8Array | undefined;
  /**
   * Settles when the file's rows are loaded. Rejects with a
   * {@linkcode RecordFileError} when the file turns out unreadable half way:
   * the store then goes on in memory and leaves the file as it is.
   */
  readonly loading: Promise<RecordFileLoad>;
  /** Transactions written since open (the load's rewrite not counted), and rows in them. */
  readonly writes: { readonly batches: number; readonly rows: number };
  /** Writes the pending changes now (as the timer would). */
  flush(): void;
  /** Stops loading, writes the pending changes and closes the file. */
  close(): void;
}

/**
 * Opens `path` (created when missing) and starts loading its records into a
 * new store, which serves at once.
 *
 * @param path The records file.
 * @param options The store's options, as {@linkcode createPkarrHandler}'s.
 * @returns the store.
 * @throws {RecordFileError} when the file is too large, corrupt, not a records
 *   file, locked by another process, or cannot be read or written.
 * @example
 * ```ts
 * const path = `${await Deno.makeTempDir()}/records.sqlite`;
 * const store = openPersistentPkarrStore(path); // serve store.handler, as createPkarrHandler's
 * const { loaded } = await store.loading; // 0: a new file
 * store.close(); // on shutdown: the last batch is written
 * ```
 */
export function openPersistentPkarrStore(
  path: string,
  options: PersistentPkarrStoreOptions = {},
): PersistentPkarrStore {
  const interval = options.flushIntervalMs ?? RECORD_FLUSH_INTERVAL_MS;
  if (!(interval > 0)) {
    throw new RangeError(`Cannot open pkarr store: flushIntervalMs ${interval} is not positive`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    timer ??= setTimeout(flush, interval);
  };
  const parts = _createPkarrStore(options, schedule);
  const { table, now, wallClock } = parts;
  const file = RecordFile.open(path, options.maxRecords ?? DEFAULT_MAX_RECORDS);
  /** Open until close, or until the file failed while loading. */
  let fileOpen = true;
  let stopLoading = false;

  /** Stores a row as a PUT would; false when it fails a check, has expired or is refused. */
  function load(row: StoredRecord): boolean {
    let opened: ReturnType<typeof _openSignedPacket>;
    try {
      opened = _openSignedPacket(endpointIdFromZ32(row.key), row.body);
    } catch (error) {
      // A malformed key (TypeError from the z-base-32 decoder) or packet.
      if (error instanceof SignedPacketError || error instanceof TypeError) return false;
      throw error;
    }
    const remaining = Math.min(
      row.expiresAtMs - wallClock(),
      _recordLifetimeMs(opened.ttlSeconds),
    );
    if (!(remaining > 0)) return false;
    const at = now();
    return table.put(
      {
        key: row.key,
        body: row.body,
        timestampMicros: opened.record.timestampMicros,
        expiresAt: at + remaining,
        writer: row.writer,
        flooding: false,
      },
      at,
      wallClock(),
    ).stored;
  }

  async function loadAll(): Promise<RecordFileLoad> {
    let rows = 0, dropped = 0;
    try {
      for (const row of file.rows()) {
        if (!row || !load(row)) dropped++;
        if (++rows % LOAD_SLICE_ROWS === 0) {
          // Requests are served between slices; writes may be flushed meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (stopLoading) return { loaded: 0, dropped: 0 };
        }
      }
      // The file now holds what the store does: rows refused, expired, or
      // evicted by later ones are gone.
      table.takeChanges();
      unwritten.clear();
      const kept = [...table.records(now())].map(({ key, record }) => ({
        key,
        body: record.body,
        writer: record.writer,
        expiresAtMs: wallClock() + (record.expiresAt - now()),
      }));
      file.replaceAll(kept);
      return { loaded: kept.length, dropped };
    } catch (error) {
      if (!(error instanceof RecordFileError)) throw error;
      // Left as it is: what was read stays served, in memory only.
      fileOpen = false;
      file.close();
      table.takeChanges();
      throw error;
    }
  }

  function toStored(change: RecordChange): StoredRecord | undefined {
    if (!change.record) return undefined;
    const { body, writer, expiresAt } = change.record;
    return { key: change.key, body, writer, expiresAtMs: wallClock() + (expiresAt - now()) };
  }

  /** Changes a failed write left, merged under newer ones. */
  const unwritten = new Map<string, RecordChange>();
  const writes = { batches: 0, rows: 0 };
  let failureLoggedAt = -Infinity;

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!fileOpen) {
      table.takeChanges();
      return;
    }
    for (const change of table.takeChanges()) unwritten.set(change.key, change);
    if (unwritten.size === 0) return;
    const records: StoredRecord[] = [];
    const deleted: string[] = [];
    for (const change of unwritten.values()) {
      const stored = toStored(change);
      if (stored) records.push(stored);
      else deleted.push(change.key);
    }
    try {
      file.write(records, deleted);
      unwritten.clear();
      writes.batches++;
      writes.rows += records.length + deleted.length;
    } catch (error) {
      if (!(error instanceof RecordFileError)) throw error;
      const at = now();
      if (at - failureLoggedAt >= WRITE_FAILURE_LOG_INTERVAL_MS) {
        failureLoggedAt = at;
        options.log?.(`pkarr: ${error.message}; records are kept in memory and retried`);
      }
      schedule();
    }
  }

  const loading = loadAll();
  // Whoever holds the store decides what a failed load means; unobserved, it is not a crash.
  loading.catch(() => {});
  return {
    handler: parts.handler,
    lookup: parts.lookup,
    loading,
    get writes() {
      return { ...writes };
    },
    flush,
    close() {
      stopLoading = true;
      if (!fileOpen) return;
      flush();
      fileOpen = false;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      file.close();
    },
  };
}
