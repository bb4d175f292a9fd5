/**
 * Nostr keys as nostr mode uses them: a static secret key per peer (like
 * WireGuard's), written as `nsec1…` (NIP-19 bech32) or 64 hex digits, and the
 * peer's public key as `npub1…` or hex. Parsing says which form was expected
 * and what is wrong, since these are pasted by people.
 * @module
 */
import * as nip19 from "nostr-tools/nip19";
import { generateSecretKey, getPublicKey } from "nostr-tools/pure";

const HEX_KEY = /^[0-9a-f]{64}$/i;

/** A malformed key; the message names the flag-independent problem. */
export class NostrKeyError extends TypeError {
  /** Always "NostrKeyError". */
  override name = "NostrKeyError";
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!.map((byte) => parseInt(byte, 16)));
}

/**
 * Reads `value` as a key of the `wanted` kind: 64 hex digits, or its NIP-19
 * form. The other kind's prefix gets its own message (people paste the wrong one).
 */
function decodeKey(
  value: string,
  wanted: "npub" | "nsec",
  wrongKind: string,
): { hex: string } | { bytes: Uint8Array } {
  if (HEX_KEY.test(value)) return { hex: value };
  const other = wanted === "npub" ? "nsec" : "npub";
  if (value.startsWith(`${other}1`)) throw new NostrKeyError(wrongKind);
  if (!value.startsWith(`${wanted}1`)) {
    throw new NostrKeyError(`expected an ${wanted}1… key or 64 hex digits`);
  }
  let decoded;
  try {
    decoded = nip19.decode(value as `${typeof wanted}1${string}`);
  } catch (error) {
    throw new NostrKeyError(`not a valid ${wanted} (${(error as Error).message})`);
  }
  if (decoded.type === "npub" && wanted === "npub") return { hex: decoded.data };
  if (decoded.type === "nsec" && wanted === "nsec") return { bytes: decoded.data };
  throw new NostrKeyError(`not an ${wanted}`);
}

function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A Nostr public key (x-only secp256k1, 32 bytes). */
export class NostrPublicKey {
  /** Lowercase hex, as Nostr events carry it. */
  readonly hex: string;

  private constructor(hex: string) {
    this.hex = hex.toLowerCase();
  }

  /** From 64 hex digits, as events carry it. */
  static fromHex(hex: string): NostrPublicKey {
    if (!HEX_KEY.test(hex)) throw new NostrKeyError("a public key is 64 hex digits");
    return new NostrPublicKey(hex);
  }

  /**
   * Parses `npub1…` or 64 hex digits.
   * @throws {NostrKeyError} saying what is wrong (an nsec given instead, a bad checksum, ...).
   */
  static parse(text: string): NostrPublicKey {
    const key = decodeKey(
      text.trim(),
      "npub",
      "this is a secret key (nsec); give the peer's public key (npub)",
    );
    return new NostrPublicKey("hex" in key ? key.hex : bytesToHex(key.bytes));
  }

  /** NIP-19 `npub1…`. */
  get npub(): string {
    return nip19.npubEncode(this.hex);
  }

  /** The npub. */
  toString(): string {
    return this.npub;
  }
}

/** A Nostr secret key. */
export class NostrSecretKey {
  /** The 32 secret bytes. */
  readonly bytes: Uint8Array;
  /** Its public key. */
  readonly publicKey: NostrPublicKey;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.publicKey = NostrPublicKey.fromHex(getPublicKey(bytes));
  }

  /** A fresh random key. */
  static generate(): NostrSecretKey {
    return new NostrSecretKey(generateSecretKey());
  }

  /**
   * Parses `nsec1…` or 64 hex digits.
   * @throws {NostrKeyError} saying what is wrong (an npub given instead, a bad checksum, ...).
   */
  static parse(text: string): NostrSecretKey {
    const key = decodeKey(
      text.trim(),
      "nsec",
      "this is a public key (npub); the secret key is the nsec",
    );
    return NostrSecretKey.#checked("bytes" in key ? key.bytes : hexToBytes(key.hex));
  }

  static #checked(bytes: Uint8Array): NostrSecretKey {
    try {
      return new NostrSecretKey(bytes);
    } catch {
      throw new NostrKeyError("not a valid secp256k1 secret key (zero or past the curve order)");
    }
  }

  /** NIP-19 `nsec1…`. */
  get nsec(): string {
    return nip19.nsecEncode(this.bytes);
  }

  /** Lowercase hex of the secret. */
  get hex(): string {
    return bytesToHex(this.bytes);
  }
}
