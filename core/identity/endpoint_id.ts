/**
 * The EndpointId: a peer's Ed25519 public key, printed as iroh prints it.
 * @module
 */
import { decodeBase32, encodeBase32 } from "./base32.ts";

/** Length in characters of an EndpointId printed in base32. */
export const ENDPOINT_ID_BASE32_LENGTH = 52;

/** An Ed25519 public key that names a peer. */
export class EndpointId {
  /** The 32 bytes of the public key (a copy of what the constructor got). */
  readonly bytes: Uint8Array;

  /**
   * Wraps a raw Ed25519 public key.
   * @throws {TypeError} unless `bytes` is 32 bytes long.
   */
  constructor(bytes: Uint8Array) {
    if (bytes.length !== 32) {
      throw new TypeError(`Cannot create EndpointId: expected 32 bytes, got ${bytes.length}`);
    }
    this.bytes = Uint8Array.from(bytes);
  }

  /**
   * Parses an EndpointId given as 52 base32 characters (iroh's form) or 64 hex digits.
   * @throws {TypeError} naming what is wrong with the text.
   */
  static parse(text: string): EndpointId {
    const trimmed = text.trim();
    if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
      const bytes = new Uint8Array(32);
      for (let i = 0; i < 32; i++) bytes[i] = parseInt(trimmed.slice(i * 2, i * 2 + 2), 16);
      return new EndpointId(bytes);
    }
    if (trimmed.length !== ENDPOINT_ID_BASE32_LENGTH) {
      throw new TypeError(
        `Invalid EndpointId '${trimmed}': expected 52 base32 characters or 64 hex digits, got ${trimmed.length} characters`,
      );
    }
    try {
      return new EndpointId(decodeBase32(trimmed));
    } catch (error) {
      throw new TypeError(`Invalid EndpointId '${trimmed}': ${(error as Error).message}`);
    }
  }

  /** Whether both name the same key. */
  equals(other: EndpointId): boolean {
    return this.bytes.every((byte, i) => byte === other.bytes[i]);
  }

  /** The canonical form: lowercase base32 without padding. */
  toString(): string {
    return encodeBase32(this.bytes);
  }

  /** The key as 64 lowercase hex digits. */
  toHex(): string {
    return Array.from(this.bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }
}
