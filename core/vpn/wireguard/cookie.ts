/**
 * WireGuard's mac1/mac2 and cookie replies (sans-IO). Every handshake
 * message ends in mac1 (keyed with the receiver's public key: proves the
 * sender knows who it talks to) and mac2 (keyed with a cookie the receiver
 * handed out: proves the sender can receive at its address). A receiver
 * under load answers messages without a valid mac2 with a cookie reply and
 * no work. {@link CookieChecker} is the receiving side, {@link CookieGenerator}
 * the sending side.
 * @module
 */
import {
  COOKIE_REPLY_SIZE,
  decodeCookieReply,
  encodeCookieReply,
  WireGuardMessageError,
} from "./messages.ts";
import { equalBytes, hash, mac, xaeadOpen, xaeadSeal } from "./noise_primitives.ts";
import { COOKIE_REFRESH_TIME } from "./timers.ts";

const LABEL_MAC1 = new TextEncoder().encode("mac1----");
const LABEL_COOKIE = new TextEncoder().encode("cookie--");
const MAC_SIZE = 16;
const NONCE_SIZE = 24;

/** The clock and randomness of the cookie machinery. */
export interface CookieOptions {
  /** Monotonic milliseconds. */
  now: () => number;
  /** Fills `bytes` with random bytes. Default: `crypto.getRandomValues`. */
  random?: (bytes: Uint8Array) => void;
}

/** Receiving side: checks macs of handshake messages sent to us, and makes cookie replies. */
export class CookieChecker {
  readonly #mac1Key: Uint8Array;
  readonly #cookieKey: Uint8Array;
  readonly #now: () => number;
  readonly #random: (bytes: Uint8Array) => void;
  readonly #secret = new Uint8Array(32);
  #secretSetAt = -Infinity;

  /** @param publicKey Our static public key. */
  constructor(publicKey: Uint8Array, options: CookieOptions) {
    this.#mac1Key = hash(LABEL_MAC1, publicKey);
    this.#cookieKey = hash(LABEL_COOKIE, publicKey);
    this.#now = options.now;
    this.#random = options.random ?? ((bytes) => crypto.getRandomValues(bytes));
  }

  /** Whether a handshake message's mac1 is valid (it is the 32nd to 16th bytes from the end). */
  checkMac1(message: Uint8Array): boolean {
    if (message.length < 2 * MAC_SIZE) return false;
    const end = message.length - 2 * MAC_SIZE;
    return equalBytes(
      mac(this.#mac1Key, message.subarray(0, end)),
      message.subarray(end, end + MAC_SIZE),
    );
  }

  /**
   * Whether a handshake message's mac2 is valid for a cookie we gave to
   * `source` (the sender's address as bytes; empty when the path has one peer).
   * Cookies die with the secret, after two minutes.
   */
  checkMac2(message: Uint8Array, source: Uint8Array): boolean {
    if (message.length < 2 * MAC_SIZE) return false;
    if (this.#now() - this.#secretSetAt > COOKIE_REFRESH_TIME) return false;
    const cookie = mac(this.#secret, source);
    const end = message.length - MAC_SIZE;
    return equalBytes(mac(cookie, message.subarray(0, end)), message.subarray(end));
  }

  /**
   * A cookie reply to a handshake message from `source`, whose sender index is
   * `senderIndex`. The secret is renewed when it is two minutes old.
   */
  createReply(message: Uint8Array, senderIndex: number, source: Uint8Array): Uint8Array {
    if (this.#now() - this.#secretSetAt > COOKIE_REFRESH_TIME) {
      this.#random(this.#secret);
      this.#secretSetAt = this.#now();
    }
    const cookie = mac(this.#secret, source);
    const nonce = new Uint8Array(NONCE_SIZE);
    this.#random(nonce);
    const end = message.length - 2 * MAC_SIZE;
    const mac1 = message.subarray(end, end + MAC_SIZE);
    return encodeCookieReply({
      receiver: senderIndex,
      nonce,
      encryptedCookie: xaeadSeal(this.#cookieKey, nonce, cookie, mac1),
    });
  }
}

/** Sending side: writes macs into our handshake messages to the peer, and takes its cookie replies. */
export class CookieGenerator {
  readonly #mac1Key: Uint8Array;
  readonly #cookieKey: Uint8Array;
  readonly #now: () => number;
  #lastMac1: Uint8Array | undefined;
  #cookie: Uint8Array | undefined;
  #cookieSetAt = -Infinity;

  /** @param peerPublicKey The peer's static public key. */
  constructor(peerPublicKey: Uint8Array, options: CookieOptions) {
    this.#mac1Key = hash(LABEL_MAC1, peerPublicKey);
    this.#cookieKey = hash(LABEL_COOKIE, peerPublicKey);
    this.#now = options.now;
  }

  /** Whether a cookie is at hand, so the next message carries a mac2. */
  get hasCookie(): boolean {
    return this.#cookie !== undefined && this.#now() - this.#cookieSetAt <= COOKIE_REFRESH_TIME;
  }

  /** Writes mac1 and (with a fresh cookie) mac2 into the last 32 bytes of `message`, in place. */
  addMacs(message: Uint8Array): void {
    const mac1At = message.length - 2 * MAC_SIZE;
    const mac1 = mac(this.#mac1Key, message.subarray(0, mac1At));
    message.set(mac1, mac1At);
    this.#lastMac1 = mac1;
    const mac2At = message.length - MAC_SIZE;
    message.fill(0, mac2At);
    if (this.hasCookie) message.set(mac(this.#cookie!, message.subarray(0, mac2At)), mac2At);
  }

  /**
   * Takes a cookie reply to the last message we sent.
   * @returns whether it was one (it must decrypt against that message's mac1).
   */
  consumeReply(bytes: Uint8Array): boolean {
    if (!this.#lastMac1 || bytes.length !== COOKIE_REPLY_SIZE) return false;
    let reply;
    try {
      reply = decodeCookieReply(bytes);
    } catch (error) {
      if (error instanceof WireGuardMessageError) return false;
      throw error;
    }
    const cookie = xaeadOpen(this.#cookieKey, reply.nonce, reply.encryptedCookie, this.#lastMac1);
    if (!cookie) return false;
    this.#cookie = cookie;
    this.#cookieSetAt = this.#now();
    // One reply per message: a copy of it is not news.
    this.#lastMac1 = undefined;
    return true;
  }
}
