/**
 * WireGuard keys in the text form `wg` and wireguard-go take: base64 of 32 bytes.
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";

/** A WireGuard static keypair, each key base64 of 32 bytes (44 characters). */
export interface WireGuardKeyPair {
  /** Clamped X25519 secret key, as `wg genkey` prints one. */
  privateKey: string;
  /** Its public key, as `wg pubkey` prints it. */
  publicKey: string;
}

const KEY_BYTES = 32;

/**
 * Makes a fresh keypair with the clamping `wg genkey` applies, so that the private
 * key text is the one `wg showconf` would print back.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = wireGuardKeyPair();
 * ```
 */
export function wireGuardKeyPair(): WireGuardKeyPair {
  const secret = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  secret[0] &= 248;
  secret[31] = (secret[31] & 127) | 64;
  const privateKey = encodeBase64(secret);
  return { privateKey, publicKey: wireGuardPublicKey(privateKey) };
}

/**
 * The public key of a base64 private key (what `wg pubkey` does).
 *
 * @throws {TypeError} "Cannot read WireGuard key: ..." unless it is base64 of 32 bytes.
 * @example
 * ```ts
 * wireGuardPublicKey("YBLQr+...=") // "0tz1...="
 * ```
 */
export function wireGuardPublicKey(privateKey: string): string {
  return encodeBase64(x25519.getPublicKey(decodeWireGuardKey(privateKey)));
}

/**
 * The 32 bytes of a base64 WireGuard key.
 *
 * @throws {TypeError} "Cannot read WireGuard key: ..." unless it is base64 of 32 bytes.
 */
export function decodeWireGuardKey(key: string): Uint8Array {
  // 32 bytes are 44 base64 characters ending in "="; the 43rd carries 4 bits of the key
  // and 2 zero bits, which `wg` checks too (another character there is not canonical).
  if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(key)) {
    throw new TypeError("Cannot read WireGuard key: expected base64 of 32 bytes (44 characters)");
  }
  return Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
}

function encodeBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
