/**
 * The handshake's primitives as the WireGuard paper names them (HASH, MAC,
 * HMAC, KDFn, DH, AEAD, XAEAD, TAI64N), over audited libraries: X25519 from
 * `@noble/curves`, BLAKE2s and HMAC from `@noble/hashes`, ChaCha20-Poly1305
 * and XChaCha20-Poly1305 from `@noble/ciphers`. Nothing here is on the
 * per-packet path (see transport_cipher.ts for that).
 * @module
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { blake2s } from "@noble/hashes/blake2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { chacha20poly1305, xchacha20poly1305 } from "@noble/ciphers/chacha.js";

/** Size of keys, hashes and chaining keys. */
export const KEY_SIZE = 32;
/** Size of a TAI64N timestamp. */
export const TIMESTAMP_SIZE = 12;

/** HASH(parts...): BLAKE2s-256 of the concatenation. */
export function hash(...parts: Uint8Array[]): Uint8Array {
  const state = blake2s.create();
  for (const part of parts) state.update(part);
  return state.digest();
}

/** MAC(key, input): keyed BLAKE2s with a 16-byte output. */
export function mac(key: Uint8Array, input: Uint8Array): Uint8Array {
  return blake2s(input, { key, dkLen: 16 });
}

/** HMAC-BLAKE2s. */
export function hmacHash(key: Uint8Array, input: Uint8Array): Uint8Array {
  return hmac(blake2s, key, input);
}

/** KDFn(key, input): n 32-byte outputs (HKDF with HMAC-BLAKE2s), n from 1 to 3. */
export function kdf(n: 1 | 2 | 3, key: Uint8Array, input: Uint8Array): Uint8Array[] {
  const prk = hmacHash(key, input);
  const outputs: Uint8Array[] = [];
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1; i <= n; i++) {
    const block = new Uint8Array(previous.length + 1);
    block.set(previous);
    block[previous.length] = i;
    previous = hmacHash(prk, block);
    outputs.push(previous);
  }
  prk.fill(0);
  return outputs;
}

/**
 * DH(private, public): X25519.
 * @throws {Error} when the public key is of low order (the result would be
 * all zeros); callers treat it as a failed handshake.
 */
export function dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return x25519.getSharedSecret(privateKey, publicKey);
}

/** DH-GENERATE: a fresh X25519 private key. */
export function generatePrivateKey(): Uint8Array {
  return x25519.utils.randomSecretKey();
}

/** DH-PUBKEY: the public key of an X25519 private key. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey);
}

/** AEAD(key, counter, plaintext, ad): ChaCha20-Poly1305 with a 96-bit nonce of 4 zero bytes and the counter. */
export function aeadSeal(
  key: Uint8Array,
  counter: number,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  return chacha20poly1305(key, counterNonce(counter), ad).encrypt(plaintext);
}

/** Opens {@link aeadSeal}'s output; `undefined` when it does not authenticate. */
export function aeadOpen(
  key: Uint8Array,
  counter: number,
  ciphertext: Uint8Array,
  ad: Uint8Array,
): Uint8Array | undefined {
  try {
    return chacha20poly1305(key, counterNonce(counter), ad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

/** XAEAD(key, nonce, plaintext, ad): XChaCha20-Poly1305 with a 24-byte nonce. */
export function xaeadSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  return xchacha20poly1305(key, nonce, ad).encrypt(plaintext);
}

/** Opens {@link xaeadSeal}'s output; `undefined` when it does not authenticate. */
export function xaeadOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  ad: Uint8Array,
): Uint8Array | undefined {
  try {
    return xchacha20poly1305(key, nonce, ad).decrypt(ciphertext);
  } catch {
    return undefined;
  }
}

/**
 * TAI64N of a wall-clock time in milliseconds since 1970. The nanoseconds are
 * rounded down to 2^24 ns (~17 ms), as wireguard-go does, so the timestamp
 * does not tell an observer the sender's clock to the nanosecond.
 */
export function tai64n(epochMs: number): Uint8Array {
  const bytes = new Uint8Array(TIMESTAMP_SIZE);
  const view = new DataView(bytes.buffer);
  const seconds = Math.floor(epochMs / 1000);
  // TAI64 labels second s of 1970 as 2^62 + s; the 10 is TAI's offset from UTC in 1970.
  view.setBigUint64(0, (1n << 62n) + 10n + BigInt(seconds));
  const nanos = Math.floor((epochMs - seconds * 1000) * 1e6);
  view.setUint32(8, nanos - (nanos % 0x100_0000));
  return bytes;
}

/** Whether two byte strings are equal, in time independent of where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Lexicographic comparison (big-endian numbers, such as TAI64N), negative when a < b. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function counterNonce(counter: number): Uint8Array {
  const nonce = new Uint8Array(12);
  const view = new DataView(nonce.buffer);
  view.setUint32(4, counter % 0x1_0000_0000, true);
  view.setUint32(8, Math.floor(counter / 0x1_0000_0000), true);
  return nonce;
}
