/**
 * BEP 44 items: the target a lookup searches for, the bytes a mutable item's
 * signature covers, the signature check and the size limits.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { verifyStrict } from "../identity/mod.ts";
import { concatBytes } from "./_concat_bytes.ts";
import { encodeBencode } from "./bencode.ts";

/** A mutable item: a value signed by an Ed25519 key, versioned by `seq`. */
export interface MutableItem {
  /** The Ed25519 public key, 32 bytes (pkarr: the EndpointId's bytes). */
  publicKey: Uint8Array;
  /** The version, at least 0, fits a signed 64-bit integer (pkarr: microseconds). */
  seq: bigint;
  /** The bytes of `v`, a bencoded byte string on the wire. */
  value: Uint8Array;
  /** Ed25519 signature, 64 bytes, over {@linkcode mutableSignable}. */
  signature: Uint8Array;
  /** Optional salt, at most {@linkcode MAX_SALT_BYTES} bytes (pkarr uses none). */
  salt?: Uint8Array;
}

/** Largest bencoded `v` a node stores (BEP 44). */
export const MAX_VALUE_BYTES = 1000;
/** Longest salt (BEP 44). */
export const MAX_SALT_BYTES = 64;
/** Largest `seq`: an i64. */
export const MAX_SEQ: bigint = (1n << 63n) - 1n;

const textEncoder = new TextEncoder();

/** SHA-1 of the public key followed by the salt: where a mutable item lives. */
export function mutableTarget(publicKey: Uint8Array, salt?: Uint8Array): Uint8Array {
  const input = new Uint8Array(publicKey.length + (salt?.length ?? 0));
  input.set(publicKey);
  if (salt) input.set(salt, publicKey.length);
  return sha1(input);
}

/** SHA-1 of the bencoded value: where an immutable item lives. */
export function immutableTarget(encodedValue: Uint8Array): Uint8Array {
  return sha1(encodedValue);
}

/**
 * The bytes a mutable item's signature covers: `4:salt<len>:<salt>` when salted,
 * then `3:seqi<seq>e1:v` and the bencoded value.
 *
 * @param seq The item's sequence number.
 * @param encodedValue `v` as bencoded on the wire (for pkarr `<len>:<packet>`).
 * @param salt The salt, if any (an empty salt counts as none).
 */
export function mutableSignable(
  seq: bigint,
  encodedValue: Uint8Array,
  salt?: Uint8Array,
): Uint8Array {
  const saltPart = salt && salt.length > 0
    ? concatBytes([textEncoder.encode(`4:salt${salt.length}:`), salt])
    : new Uint8Array();
  return concatBytes([saltPart, textEncoder.encode(`3:seqi${seq}e1:v`), encodedValue]);
}

/** A mutable item whose `v` is kept bencoded, whatever its type (a store keeps any). */
export interface EncodedMutableItem extends Omit<MutableItem, "value"> {
  /** `v`, bencoded. */
  encodedValue: Uint8Array;
}

/** Why an item is refused: a KRPC error code (BEP 5's 203, BEP 44's 205-207) and its message. */
export interface ItemProblem {
  /** 203 malformed field, 205 v too big, 206 bad signature, 207 salt too big. */
  code: 203 | 205 | 206 | 207;
  /** BEP 44's wording. */
  message: string;
}

/**
 * Why an item is unfit to store or trust, or undefined when it is fit. Checks
 * sizes first, then the signature.
 */
export function checkMutableItem(item: MutableItem): ItemProblem | undefined {
  return checkEncodedMutableItem({ ...item, encodedValue: encodeBencode(item.value) });
}

/** {@linkcode checkMutableItem} for an item whose value is already bencoded. */
export function checkEncodedMutableItem(item: EncodedMutableItem): ItemProblem | undefined {
  if (item.publicKey.length !== 32) return { code: 203, message: "k is not 32 bytes" };
  if (item.signature.length !== 64) return { code: 203, message: "sig is not 64 bytes" };
  if (item.seq < 0n || item.seq > MAX_SEQ) return { code: 203, message: "seq out of range" };
  if ((item.salt?.length ?? 0) > MAX_SALT_BYTES) {
    return { code: 207, message: "salt (salt field) too big" };
  }
  const encoded = item.encodedValue;
  if (encoded.length > MAX_VALUE_BYTES) {
    return { code: 205, message: "message (v field) too big" };
  }
  if (
    !verifyStrict(item.signature, mutableSignable(item.seq, encoded, item.salt), item.publicKey)
  ) {
    return { code: 206, message: "invalid signature" };
  }
  return undefined;
}

/**
 * Signs a value as a mutable item (for tests and publishers holding the key).
 *
 * @param secretKey The 32-byte Ed25519 seed.
 */
export function signMutableItem(
  secretKey: Uint8Array,
  seq: bigint,
  value: Uint8Array,
  salt?: Uint8Array,
): MutableItem {
  const publicKey = ed25519.getPublicKey(secretKey);
  const signature = ed25519.sign(mutableSignable(seq, encodeBencode(value), salt), secretKey);
  return salt ? { publicKey, seq, value, signature, salt } : { publicKey, seq, value, signature };
}
