/**
 * What a full node stores for others (BEP 44), sans-IO: mutable and immutable
 * items by target, each checked before it is kept (size, salt, signature; an
 * immutable value's hash is its target by construction), BEP 44's seq and cas
 * rules, expiry after 2 hours without a put, and bounds on count and bytes
 * (the least recently stored item leaves first).
 * @module
 */
import { KrpcErrorCode } from "./krpc.ts";
import {
  checkEncodedMutableItem,
  type EncodedMutableItem,
  immutableTarget,
  MAX_VALUE_BYTES,
  mutableTarget,
} from "./mutable_item.ts";
import { bytesEqual, toHex } from "./node_id.ts";

/** How long an item lives without a new put (BEP 44: 2 hours). */
export const ITEM_TTL_MS = 2 * 60 * 60_000;

/** A stored item: mutable ones carry key, seq and signature. */
export type StoredItem =
  | { kind: "immutable"; encodedValue: Uint8Array; expiresAt: number }
  | ({ kind: "mutable"; expiresAt: number } & EncodedMutableItem);

/** Why a put was refused: a KRPC error code and message. */
export interface PutRefusal {
  /** 203, 205, 206, 207, 301 or 302. */
  code: number;
  /** BEP 44's wording. */
  message: string;
}

/** Options of an {@linkcode ItemStore}. */
export interface ItemStoreOptions {
  /** Most items kept; default 2000. */
  maxItems?: number;
  /** Most bytes kept (values, keys, signatures, salts); default 2 MiB. */
  maxBytes?: number;
  /** Item lifetime (ms); default {@linkcode ITEM_TTL_MS}. */
  ttlMs?: number;
  /** Current time in ms; default `Date.now`. */
  now?: () => number;
}

/** Items stored for other nodes. */
export class ItemStore {
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  /** By target hex, least recently stored first. */
  readonly #items = new Map<string, StoredItem>();
  #bytes = 0;

  /** @param options Bounds and clock. */
  constructor(options: ItemStoreOptions = {}) {
    this.#maxItems = options.maxItems ?? 2000;
    this.#maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
    this.#ttlMs = options.ttlMs ?? ITEM_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Items kept. */
  get size(): number {
    return this.#items.size;
  }

  /** Bytes kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The live item at `target`, if any. */
  get(target: Uint8Array): StoredItem | undefined {
    const key = toHex(target);
    const item = this.#items.get(key);
    if (item && item.expiresAt <= this.#now()) {
      this.#delete(key);
      return undefined;
    }
    return item;
  }

  /** Stores an immutable value (bencoded); its target is its SHA-1. */
  putImmutable(encodedValue: Uint8Array): PutRefusal | undefined {
    if (encodedValue.length > MAX_VALUE_BYTES) {
      return { code: KrpcErrorCode.valueTooBig, message: "message (v field) too big" };
    }
    this.#store(toHex(immutableTarget(encodedValue)), {
      kind: "immutable",
      encodedValue,
      expiresAt: this.#now() + this.#ttlMs,
    });
    return undefined;
  }

  /**
   * Stores a mutable item after its checks: sizes and signature (203, 205-207),
   * then cas (301: `cas` given and not the stored seq) and seq (302: lower than
   * the stored one, or equal with another value; equal and the same renews it).
   */
  putMutable(item: EncodedMutableItem, cas?: bigint): PutRefusal | undefined {
    const problem = checkEncodedMutableItem(item);
    if (problem) return problem;
    const key = toHex(mutableTarget(item.publicKey, item.salt));
    const existing = this.get(mutableTarget(item.publicKey, item.salt));
    if (existing?.kind === "mutable") {
      if (cas !== undefined && cas !== existing.seq) {
        return {
          code: KrpcErrorCode.casMismatch,
          message: "CAS mismatch, re-read value and try again",
        };
      }
      if (
        item.seq < existing.seq ||
        (item.seq === existing.seq && !bytesEqual(item.encodedValue, existing.encodedValue))
      ) {
        return { code: KrpcErrorCode.seqTooLow, message: "sequence number less than current" };
      }
    }
    const stored: StoredItem = {
      kind: "mutable",
      publicKey: Uint8Array.from(item.publicKey),
      seq: item.seq,
      encodedValue: Uint8Array.from(item.encodedValue),
      signature: Uint8Array.from(item.signature),
      expiresAt: this.#now() + this.#ttlMs,
    };
    if (item.salt && item.salt.length > 0) stored.salt = Uint8Array.from(item.salt);
    this.#store(key, stored);
    return undefined;
  }

  /** Drops expired items (the node calls it now and then; {@linkcode get} drops lazily too). */
  sweep(): void {
    const now = this.#now();
    for (const [key, item] of this.#items) if (item.expiresAt <= now) this.#delete(key);
  }

  #store(key: string, item: StoredItem): void {
    this.#delete(key);
    this.#items.set(key, item);
    this.#bytes += sizeOf(item);
    while (this.#items.size > this.#maxItems || this.#bytes > this.#maxBytes) {
      this.#delete(this.#items.keys().next().value!);
    }
  }

  #delete(key: string): void {
    const item = this.#items.get(key);
    if (!item) return;
    this.#items.delete(key);
    this.#bytes -= sizeOf(item);
  }
}

function sizeOf(item: StoredItem): number {
  if (item.kind === "immutable") return item.encodedValue.length;
  return item.encodedValue.length + item.publicKey.length + item.signature.length +
    (item.salt?.length ?? 0) + 8;
}
