/**
 * The crypto of the relay's challenge handshake: the relay sends 16 random bytes,
 * the client answers with its public key and an Ed25519 signature over a key
 * derived from them (`iroh-relay/src/protos/handshake.rs`).
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { blake3 } from "@noble/hashes/blake3.js";
import type { SecretKey } from "../identity/mod.ts";
import type { RelayFrame } from "./frames.ts";

/** Length of a relay's challenge. */
export const CHALLENGE_LENGTH = 16;

// blake3 derive_key context. Signing a derived key rather than the challenge itself
// keeps a malicious relay from choosing 16 bytes and getting them signed.
const CHALLENGE_CONTEXT = new TextEncoder().encode("iroh-relay handshake v1 challenge signature");

/** A client-auth frame. */
export type ClientAuthFrame = Extract<RelayFrame, { type: "client-auth" }>;

/**
 * The 32 bytes a client signs: blake3 derive_key("iroh-relay handshake v1 challenge
 * signature", challenge).
 *
 * @param challenge The relay's 16-byte challenge.
 * @returns The derived 32-byte message.
 * @throws {RangeError} unless the challenge is 16 bytes.
 *
 * @example
 * ```ts
 * import { challengeMessage, newChallenge } from "./handshake.ts";
 * const message = challengeMessage(newChallenge()); // 32 bytes
 * ```
 */
export function challengeMessage(challenge: Uint8Array): Uint8Array {
  if (!(challenge instanceof Uint8Array) || challenge.length !== CHALLENGE_LENGTH) {
    throw new RangeError(
      `Cannot derive the challenge message: expected ${CHALLENGE_LENGTH} bytes, got ${challenge?.length}`,
    );
  }
  return blake3(challenge, { context: CHALLENGE_CONTEXT, dkLen: 32 });
}

/**
 * A fresh challenge: 16 bytes from the system's CSPRNG.
 *
 * @returns The challenge.
 *
 * @example
 * ```ts
 * import { newChallenge } from "./handshake.ts";
 * const frame = { type: "server-challenge", challenge: newChallenge() } as const;
 * ```
 */
export function newChallenge(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(CHALLENGE_LENGTH));
}

/**
 * The client's answer to a challenge: its public key and its signature over
 * {@linkcode challengeMessage}.
 *
 * @param key The client's secret key.
 * @param challenge The relay's 16-byte challenge.
 * @returns A client-auth frame.
 * @throws {RangeError} unless the challenge is 16 bytes.
 *
 * @example
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * import { newChallenge, signChallenge, verifyClientAuth } from "./handshake.ts";
 * const challenge = newChallenge();
 * const frame = signChallenge(SecretKey.generate(), challenge);
 * verifyClientAuth(frame, challenge); // true
 * ```
 */
export function signChallenge(key: SecretKey, challenge: Uint8Array): ClientAuthFrame {
  const signature = key.sign(challengeMessage(challenge));
  return { type: "client-auth", publicKey: Uint8Array.from(key.endpointId.bytes), signature };
}

/**
 * Whether `signature` is `publicKey`'s signature over {@linkcode challengeMessage}
 * of `challenge`. Checks strictly, as iroh's `verify_strict` does: non-canonical
 * encodings and small-order keys or R points fail. Never throws; anything malformed,
 * a challenge of the wrong length included, is false.
 *
 * @param frame The client's public key and signature, e.g. a decoded client-auth frame.
 * @param challenge The challenge this relay sent.
 * @returns true iff the signature verifies.
 *
 * @example
 * ```ts
 * import { SecretKey } from "../identity/mod.ts";
 * import { newChallenge, signChallenge, verifyClientAuth } from "./handshake.ts";
 * const challenge = newChallenge();
 * verifyClientAuth(signChallenge(SecretKey.generate(), challenge), newChallenge()); // false
 * ```
 */
export function verifyClientAuth(
  frame: { publicKey: Uint8Array; signature: Uint8Array },
  challenge: Uint8Array,
): boolean {
  try {
    const { publicKey, signature } = frame;
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    // noble's strict mode rejects a small-order key but accepts a small-order R,
    // which iroh's verify_strict refuses too.
    if (ed25519.Point.fromBytes(signature.subarray(0, 32)).isSmallOrder()) return false;
    return ed25519.verify(signature, challengeMessage(challenge), publicKey, { zip215: false });
  } catch {
    return false;
  }
}
