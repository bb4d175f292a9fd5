/**
 * The pkarr store of `pkarr_store.ts`, kept in a records file
 * (`record_file.ts`) so that a relay restart loses no record.
 *
 * On open, each row is checked as a PUT would be (key, size, signature,
 * timestamp not ahead of the clock) and stored through the same table, so the
 * capacity bounds, the per-address share and the expiry hold as before: a
 * row that fails a check, has expired or finds no room is dropped, and the
 * file is rewritten to hold what the store does. Then writes are batched: at
 * most one transaction per {@linkcode RECORD_FLUSH_INTERVAL_MS}, holding each
 * record changed since the last one once, however often it changed; a write
 * that changed nothing (a replay) writes nothing. Expiry is kept on the wall
 * clock in the file, and never extended past a fresh write's lifetime.
 * @module
 */
import type { RecordChange } from "./_record_table.ts";
import { DEFAULT_MAX_RECORDS } from "./_record_table.ts";
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
/** A failing write (disk full) is reported at most this often; it is retried with the next batch. */
const WRITE_FAILURE_LOG_INTERVAL_MS = 60_000;

/** Options of {@linkcode openPersistentPkarrStore}: the store's, and how often to write. */
export interface PersistentPkarrStoreOptions extends PkarrStoreOptions {
  /** Batching interval (ms). Default {@linkcode RECORD_FLUSH_INTERVAL_MS}. */
  flushIntervalMs?: number;
}

/** A pkarr store backed by a records file. */
export interface PersistentPkarrStore {
  /** The HTTP handler, as {@linkcode createPkarrHandler}'s. */
  handler: (request: Request, info?: PkarrRequestInfo) => Promise<Response>;
  /** Records loaded from the file at open. */
  readonly loaded: number;
  /** Rows of the file dropped at open: failed a check, expired, or found no room. */
  readonly dropped: number;
  /** Transactions written since open (the load's rewrite not counted), and rows in them. */
  readonly writes: { readonly batches: number; readonly rows: number };
  /** Writes the pending changes now (as the timer would). */
  flush(): void;
  /** Writes the pending changes and closes the file. */
  close(): void;
}

/**
 * Opens `path` (created when missing) and loads its records into a new store.
 *
 * @param path The records file.
 * @param options The store's options, as {@linkcode createPkarrHandler}'s.
 * @returns the store; its handler serves at once.
 * @throws {RecordFileError} when the file is too large, corrupt, not a records
 *   file, locked by another process, or cannot be read or written.
 * @example
 * ```ts
 * const store = openPersistentPkarrStore("/var/lib/tunnel/records.sqlite");
 * const server = Deno.serve({ port: 8080 }, store.handler);
 * // ... on shutdown:
 * await server.shutdown();
 * store.close();
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
  const parts = _createPkarrStore(options, () => {
    timer ??= setTimeout(flush, interval);
  });
  const { table, now, wallClock } = parts;
  const file = RecordFile.open(path, options.maxRecords ?? DEFAULT_MAX_RECORDS);
  let loaded = 0, rows = 0;
  try {
    for (const row of file.rows()) {
      rows++;
      if (row) load(row);
    }
    // What the table holds now: rows refused, or evicted by later ones, are absent.
    const kept = table.takeChanges().flatMap((change) => {
      const stored = toStored(change);
      return stored ? [stored] : [];
    });
    loaded = kept.length;
    file.replaceAll(kept);
  } catch (error) {
    file.close();
    throw error;
  }
  const dropped = rows - loaded;

  /** Stores a row as a PUT would, unless it fails a check (then the table refuses or never sees it). */
  function load(row: StoredRecord): void {
    let opened: ReturnType<typeof _openSignedPacket>;
    try {
      opened = _openSignedPacket(endpointIdFromZ32(row.key), row.body);
    } catch (error) {
      // A malformed key (TypeError from the z-base-32 decoder) or packet.
      if (error instanceof SignedPacketError || error instanceof TypeError) return;
      throw error;
    }
    const remaining = Math.min(
      row.expiresAtMs - wallClock(),
      _recordLifetimeMs(opened.ttlSeconds),
    );
    if (!(remaining > 0)) return;
    const at = now();
    table.put(
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
    );
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
  let closed = false;

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (closed) return;
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
      timer ??= setTimeout(flush, interval);
    }
  }

  return {
    handler: parts.handler,
    get loaded() {
      return loaded;
    },
    get dropped() {
      return dropped;
    },
    get writes() {
      return { ...writes };
    },
    flush,
    close() {
      if (closed) return;
      flush();
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      file.close();
    },
  };
}
