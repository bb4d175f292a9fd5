/**
 * Write tokens (BEP 5): what a node hands out in get_peers and get answers and
 * requires back in announce_peer and put, so only a querier that can receive at
 * its address may store. HMAC-SHA-1 of the querier's IP under a secret that
 * rotates every 5 minutes; the previous secret is still accepted, so a token
 * lives 5 to 10 minutes.
 * @module
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";

/** How often the secret changes (BEP 5: 5 minutes). */
export const TOKEN_ROTATION_MS = 5 * 60_000;
/** Bytes of a token we issue. */
export const TOKEN_BYTES = 8;
const textEncoder = new TextEncoder();

/** Issues and checks write tokens. */
export class WriteTokens {
  readonly #random: (n: number) => Uint8Array;
  readonly #now: () => number;
  #current: Uint8Array;
  #previous: Uint8Array;
  #rotatedAt: number;

  /**
   * @param random Returns `n` random bytes (the secrets).
   * @param now Current time in ms.
   */
  constructor(random: (n: number) => Uint8Array, now: () => number) {
    this.#random = random;
    this.#now = now;
    this.#current = random(20);
    this.#previous = random(20);
    this.#rotatedAt = now();
  }

  /** The token for a querier at this IP. */
  issue(ip: string): Uint8Array {
    this.#rotate();
    return tokenFor(this.#current, ip);
  }

  /** Whether `token` was issued to this IP under the current or the previous secret. */
  check(ip: string, token: Uint8Array): boolean {
    this.#rotate();
    // Both compared, so the time taken does not say which secret matched.
    const current = constantTimeEqual(token, tokenFor(this.#current, ip));
    const previous = constantTimeEqual(token, tokenFor(this.#previous, ip));
    return current || previous;
  }

  #rotate(): void {
    const now = this.#now();
    const elapsed = now - this.#rotatedAt;
    if (elapsed < TOKEN_ROTATION_MS) return;
    // After two periods or more of silence the old current secret is too old as well.
    this.#previous = elapsed >= 2 * TOKEN_ROTATION_MS ? this.#random(20) : this.#current;
    this.#current = this.#random(20);
    this.#rotatedAt = now;
  }
}

function tokenFor(secret: Uint8Array, ip: string): Uint8Array {
  return hmac(sha1, secret, textEncoder.encode(ip)).subarray(0, TOKEN_BYTES);
}

/** Compares in time that depends on the lengths only. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
