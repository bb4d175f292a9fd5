/**
 * The pkarr store's records on disk: one SQLite file (`node:sqlite`, built
 * into Deno: no native build, no `--allow-ffi`, no unstable flag; it needs
 * only `--allow-read` and `--allow-write` of the file). SQLite's rollback
 * journal makes each batch of writes atomic: a crash leaves the last batch
 * whole or absent, never half written. The file is made mode 0600 (it names
 * the networks records were written from), held locked while open (a second
 * relay on the same file is refused), and refused when larger than its records
 * can take or when it is not a records file. Rows are not trusted: the loader
 * checks each one again (`persistent_pkarr_store.ts`).
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { MAX_SIGNED_PACKET_BODY } from "./signed_packet.ts";

/** `PRAGMA application_id` of a records file ("tnlr"): tells it from any other SQLite file. */
const APPLICATION_ID = 0x746e6c72;
/** `PRAGMA user_version` of the format written here. */
const FORMAT_VERSION = 1;
/**
 * File bytes allowed per record: a row (key, body of at most
 * {@linkcode MAX_SIGNED_PACKET_BODY}, writer, expiry, ~1.2 KB) and its index
 * entry, with pages half full at worst.
 */
export const RECORD_FILE_BYTES_PER_RECORD = 4_096;
/** File bytes allowed beyond the records': SQLite's header and schema pages. */
const RECORD_FILE_BASE_BYTES = 1 << 20;
/** Rows read at once by {@linkcode RecordFile.rows}. */
const ROWS_PER_PAGE = 256;
/** Longest writer (an IPv4 address, or an IPv6 /64 as `addressGroup` writes it). */
const MAX_WRITER_LENGTH = 64;

/** A record as the file holds it. */
export interface StoredRecord {
  /** The key (z32). */
  key: string;
  /** The signed packet. */
  body: Uint8Array;
  /** The network it was written from (IPv4 address or IPv6 /64). */
  writer: string;
  /** When it expires, on the wall clock (ms since the epoch). */
  expiresAtMs: number;
}

/** The records file cannot be used: its one-line message names the file and why. */
export class RecordFileError extends Error {
  /**
   * Builds the error.
   * @param message One line naming the file and the problem.
   */
  constructor(message: string) {
    super(message);
    this.name = "RecordFileError";
  }
}

/** The largest records file accepted for a store of `maxRecords`. */
export function maxRecordFileBytes(maxRecords: number): number {
  return RECORD_FILE_BASE_BYTES + maxRecords * RECORD_FILE_BYTES_PER_RECORD;
}

/** An open records file. */
export class RecordFile {
  /** The file's path. */
  readonly path: string;
  readonly #db: DatabaseSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
  }

  /**
   * Opens `path`, creating it (mode 0600) when missing, and locks it.
   * @param path The file.
   * @param maxRecords Records the store holds: a file larger than
   *   {@linkcode maxRecordFileBytes} of it is refused.
   * @throws {RecordFileError} when the file is too large, not a records file,
   *   corrupt, locked by another process, or cannot be read or written.
   */
  static open(path: string, maxRecords: number): RecordFile {
    const fail = (why: string) => new RecordFileError(`Cannot use records file ${path}: ${why}`);
    let size = 0;
    try {
      const info = Deno.statSync(path);
      if (!info.isFile) throw fail("not a regular file");
      size = info.size;
    } catch (error) {
      if (error instanceof RecordFileError) throw error;
      if (!(error instanceof Deno.errors.NotFound)) throw fail(describe(error));
      try {
        Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
      } catch (created) {
        throw fail(describe(created));
      }
    }
    const limit = maxRecordFileBytes(maxRecords);
    if (size > limit) {
      throw fail(
        `${size} bytes is more than ${maxRecords} records can take (${limit}); move it away or raise --max-records`,
      );
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (error) {
      throw fail(describe(error));
    }
    try {
      // Held from the first transaction until close: another relay gets "locked".
      db.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
      const applicationId = pragma(db, "application_id");
      const version = pragma(db, "user_version");
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
      if (applicationId === 0 && version === 0 && tables.n === 0) {
        // A new file. auto_vacuum before the first table: deleted rows give pages back.
        db.exec(`PRAGMA auto_vacuum = FULL;
          PRAGMA application_id = ${APPLICATION_ID};
          PRAGMA user_version = ${FORMAT_VERSION};
          CREATE TABLE records (
            key TEXT PRIMARY KEY NOT NULL,
            body BLOB NOT NULL,
            writer TEXT NOT NULL,
            expires_at INTEGER NOT NULL
          );`);
      } else if (applicationId !== APPLICATION_ID) {
        throw fail("not a tunnel records file (another SQLite database); name another file");
      } else if (version !== FORMAT_VERSION) {
        throw fail(`format version ${version} is not ${FORMAT_VERSION}; name another file`);
      } else {
        // Damage found now refuses the file before the relay serves; reading it
        // all costs ~10 ms a MB, far less than checking the records' signatures.
        const check = db.prepare("PRAGMA quick_check(1)").get() as Record<string, unknown>;
        const verdict = String(Object.values(check ?? {})[0]).replace(/\s+/g, " ").slice(0, 200);
        if (verdict !== "ok") throw fail(`corrupt (${verdict}); move it away`);
      }
      // Only now, a records file: group and others lose access (rows name the
      // networks records came from); a file refused above keeps its mode.
      try {
        Deno.chmodSync(path, 0o600);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotSupported)) throw error;
      }
    } catch (error) {
      db.close();
      if (error instanceof RecordFileError) throw error;
      throw fail(describe(error));
    }
    return new RecordFile(path, db);
  }

  /**
   * Every row, checked for shape (types, sizes) only: `undefined` for a row
   * that is not a record's. Read a page at a time, no statement left open
   * between pages: writes may come between them (a row written then may be
   * read again, a row deleted then is not read).
   * @throws {RecordFileError} when the file turns out corrupt.
   */
  *rows(): Generator<StoredRecord | undefined> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      let page: Record<string, unknown>[];
      try {
        page = this.#db.prepare(
          "SELECT rowid, key, body, writer, expires_at FROM records WHERE rowid > ? ORDER BY rowid LIMIT ?",
        ).all(after, ROWS_PER_PAGE) as Record<string, unknown>[];
      } catch (error) {
        throw new RecordFileError(`Cannot use records file ${this.path}: ${describe(error)}`);
      }
      for (const row of page) yield asStoredRecord(row);
      if (page.length < ROWS_PER_PAGE) return;
      after = Number(page[page.length - 1].rowid);
    }
  }

  /**
   * Writes `records` and deletes `deletedKeys`, in one transaction.
   * @throws {RecordFileError} when the write fails (disk full, file gone); nothing is written then.
   */
  write(records: Iterable<StoredRecord>, deletedKeys: Iterable<string>): void {
    this.#transaction(() => {
      const upsert = this.#db.prepare(
        "INSERT OR REPLACE INTO records (key, body, writer, expires_at) VALUES (?, ?, ?, ?)",
      );
      for (const record of records) {
        upsert.run(record.key, record.body, record.writer, Math.round(record.expiresAtMs));
      }
      const remove = this.#db.prepare("DELETE FROM records WHERE key = ?");
      for (const key of deletedKeys) remove.run(key);
    });
  }

  /**
   * Replaces every row with `records`, in one transaction (after loading:
   * the file then holds what the store does, and no row that failed a check).
   * @throws {RecordFileError} when the write fails; nothing is written then.
   */
  replaceAll(records: Iterable<StoredRecord>): void {
    this.#transaction(() => {
      this.#db.exec("DELETE FROM records");
      this.write(records, []);
    });
  }

  /** Closes the file (and lets go of its lock). */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #transaction(body: () => void): void {
    const outer = !this.#db.isTransaction;
    try {
      if (outer) this.#db.exec("BEGIN");
      body();
      if (outer) this.#db.exec("COMMIT");
    } catch (error) {
      if (outer && this.#db.isTransaction) this.#db.exec("ROLLBACK");
      if (error instanceof RecordFileError) throw error;
      throw new RecordFileError(`Cannot write records file ${this.path}: ${describe(error)}`);
    }
  }
}

function pragma(db: DatabaseSync, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
  return Number(row?.[name] ?? 0);
}

function asStoredRecord(row: Record<string, unknown>): StoredRecord | undefined {
  const { key, body, writer, expires_at: expiresAt } = row;
  if (
    typeof key !== "string" || key.length > 64 ||
    !(body instanceof Uint8Array) || body.length > MAX_SIGNED_PACKET_BODY ||
    typeof writer !== "string" || writer.length > MAX_WRITER_LENGTH ||
    typeof expiresAt !== "number" || !Number.isFinite(expiresAt)
  ) {
    return undefined;
  }
  return { key, body, writer, expiresAtMs: expiresAt };
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return `${
      (error as Error).message.split("\n")[0]
    } (grant --allow-read and --allow-write of it)`;
  }
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
