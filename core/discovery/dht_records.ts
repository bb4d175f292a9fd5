/**
 * Records in the Mainline DHT, as pkarr keeps them: a BEP 44 mutable item
 * without salt under the endpoint's own key, whose `seq` is the record's
 * timestamp and whose value is the DNS packet. A signed packet's body (what a
 * pkarr relay stores) is the same three parts in a row, so the one signature
 * serves both, and a record read from either is checked the same way.
 *
 * The DHT node itself is behind {@linkcode RecordDht}: core/dht's node in
 * use, an in-memory table in tests.
 * @module
 */
import type { EndpointId, SecretKey } from "../identity/mod.ts";
import {
  type PkarrRecord,
  SIGNED_PACKET_HEADER_SIZE,
  SignedPacketError,
  signRecord,
  verifySignedPacket,
} from "./signed_packet.ts";

/** A BEP 44 mutable item, as the DHT carries a record. */
export interface RecordItem {
  /** The Ed25519 public key (the EndpointId's bytes). */
  publicKey: Uint8Array;
  /** The record's timestamp in microseconds. */
  seq: bigint;
  /** The DNS packet. */
  value: Uint8Array;
  /** Ed25519 over the bencoded `seq` and `v`. */
  signature: Uint8Array;
}

/** What discovery needs of a DHT node. */
export interface RecordDht {
  /** The verified item of the highest `seq` the lookup found, if any. */
  getMutable(
    publicKey: Uint8Array,
    options?: { signal?: AbortSignal },
  ): Promise<RecordItem | undefined>;
  /**
   * Stores the item at the nodes closest to its key; rejects when none took
   * it, with a message that is a line for people ("Cannot publish to the DHT: …").
   */
  putMutable(item: RecordItem, options?: { signal?: AbortSignal }): Promise<{ stored: number }>;
}

/**
 * Splits a signed packet's body (signature, timestamp, DNS packet) into the
 * item the DHT stores under `publicKey`.
 * @throws {SignedPacketError} when the body is too short to hold a record.
 */
export function recordItemOf(publicKey: Uint8Array, body: Uint8Array): RecordItem {
  if (body.length <= SIGNED_PACKET_HEADER_SIZE) {
    throw new SignedPacketError(`a signed packet of ${body.length} bytes holds no DNS packet`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    publicKey: publicKey.slice(),
    seq: view.getBigUint64(64),
    value: body.slice(SIGNED_PACKET_HEADER_SIZE),
    signature: body.slice(0, 64),
  };
}

/**
 * The signed packet's body of a DHT item: what a pkarr relay would store.
 * @throws {SignedPacketError} when `seq` is not a u64 or the signature is not 64 bytes.
 */
export function signedPacketOf(item: RecordItem): Uint8Array<ArrayBuffer> {
  if (item.seq < 0n || item.seq >= 1n << 64n) {
    throw new SignedPacketError(`seq ${item.seq} is not a timestamp`);
  }
  if (item.signature.length !== 64) {
    throw new SignedPacketError(`a signature of ${item.signature.length} bytes, not 64`);
  }
  const body = new Uint8Array(SIGNED_PACKET_HEADER_SIZE + item.value.length);
  body.set(item.signature, 0);
  new DataView(body.buffer).setBigUint64(64, item.seq);
  body.set(item.value, SIGNED_PACKET_HEADER_SIZE);
  return body;
}

/**
 * Signs `record` and stores it in the DHT.
 * @returns how many nodes took it.
 * @throws what the node throws when no node took it (its message says why).
 */
export async function publishRecordToDht(
  dht: RecordDht,
  secretKey: SecretKey,
  record: PkarrRecord,
  signal?: AbortSignal,
): Promise<number> {
  const item = recordItemOf(secretKey.endpointId.bytes, signRecord(secretKey, record));
  const { stored } = await dht.putMutable(item, { signal });
  return stored;
}

/**
 * Looks `endpointId`'s record up in the DHT and checks that its key signed it.
 * @returns the record, or `undefined` when no node holds one.
 * @throws {SignedPacketError} when the item found is not a record of `endpointId`.
 */
export async function resolveRecordFromDht(
  dht: RecordDht,
  endpointId: EndpointId,
  signal?: AbortSignal,
): Promise<PkarrRecord | undefined> {
  const item = await dht.getMutable(endpointId.bytes, { signal });
  if (!item) return undefined;
  return verifySignedPacket(endpointId, signedPacketOf(item));
}
