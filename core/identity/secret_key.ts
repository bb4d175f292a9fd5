/**
 * A peer's Ed25519 secret key and its text form.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { EndpointId } from "./endpoint_id.ts";

/** An Ed25519 secret key (the 32-byte seed) with its EndpointId. */
export class SecretKey {
  readonly #seed: Uint8Array;
  /** The public half, which names this peer. */
  readonly endpointId: EndpointId;

  /**
   * Wraps a 32-byte Ed25519 seed (kept as a private copy) and derives its EndpointId.
   * @throws {TypeError} unless `seed` is 32 bytes long.
   */
  constructor(seed: Uint8Array) {
    if (seed.length !== 32) {
      throw new TypeError(`Cannot create secret key: expected 32 bytes, got ${seed.length}`);
    }
    this.#seed = Uint8Array.from(seed);
    this.endpointId = new EndpointId(ed25519.getPublicKey(this.#seed));
  }

  /** A fresh random key from the system's CSPRNG. */
  static generate(): SecretKey {
    return new SecretKey(crypto.getRandomValues(new Uint8Array(32)));
  }

  /**
   * Parses the text form: base64 of the 32-byte seed (what `--secret` and key files hold).
   * @throws {TypeError} when the text is not base64 of exactly 32 bytes.
   */
  static parse(text: string): SecretKey {
    const trimmed = text.trim();
    let bytes: Uint8Array;
    try {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) throw new Error("not base64");
      bytes = Uint8Array.from(atob(trimmed), (c) => c.charCodeAt(0));
    } catch {
      throw new TypeError("Invalid secret key: expected base64 of 32 bytes");
    }
    if (bytes.length !== 32) {
      throw new TypeError(`Invalid secret key: expected 32 bytes, got ${bytes.length}`);
    }
    return new SecretKey(bytes);
  }

  /** The text form: base64 of the seed. */
  toBase64(): string {
    return btoa(String.fromCharCode(...this.#seed));
  }

  /** The raw 32-byte seed. Handle with care. */
  seed(): Uint8Array {
    return Uint8Array.from(this.#seed);
  }

  /** Signs `message` with Ed25519. */
  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.#seed);
  }
}
