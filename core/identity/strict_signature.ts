/**
 * Ed25519 verification as strict as iroh's and pkarr's (`verify_strict`),
 * for signatures anyone may send us (records, DHT items).
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";

/**
 * Whether `signature` is `publicKey`'s over `message`, with canonical
 * encodings only (no ZIP 215 leniency) and no small-order key or R, which
 * would let one signature verify for many keys or messages. Never throws:
 * bytes that are no point are a false.
 */
export function verifyStrict(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    const { Point } = ed25519;
    if (Point.fromBytes(publicKey).isSmallOrder()) return false;
    if (Point.fromBytes(signature.subarray(0, 32)).isSmallOrder()) return false;
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
