/**
 * One session's transport keys (sans-IO): seals IP packets into transport
 * messages and opens them, with the sending counter and the receiving
 * replay window. The per-packet AEAD is libsodium's ChaCha20-Poly1305 (IETF)
 * built to WebAssembly, the fastest one measured in Deno (see
 * /work/shared/NOTES.md); the nonce is 4 zero bytes and the 64-bit
 * little-endian counter, as the handshake's AEAD.
 * @module
 */
import sodium from "libsodium-wrappers";
import type { SessionKeys } from "./handshake.ts";
import {
  KEEPALIVE_SIZE,
  TAG_SIZE,
  TRANSPORT_HEADER_SIZE,
  writeTransportHeader,
} from "./messages.ts";
import { ReplayWindow } from "./replay_window.ts";
import { REJECT_AFTER_MESSAGES } from "./timers.ts";

// libsodium compiles its WebAssembly on load; every module that imports this one waits for it.
await sodium.ready;

const PADDING = 16;
// Scratch space for padding and nonces: one thread, and each call is synchronous.
const scratch = new Uint8Array(65_536 + PADDING);
const nonce = new Uint8Array(12);
const nonceView = new DataView(nonce.buffer);

/** The keys, indices and counters of one session. */
export class Keypair {
  /** Our index: the peer's transport messages to this session carry it. */
  readonly localIndex: number;
  /** The peer's index: our transport messages carry it. */
  readonly remoteIndex: number;
  /** Whether we initiated the handshake: only the initiator rekeys on age. */
  readonly isInitiator: boolean;
  /** When the session was derived (monotonic ms). */
  readonly createdAt: number;
  #sendKey: Uint8Array;
  #receiveKey: Uint8Array;
  #sendCounter = 0;
  #zeroed = false;
  readonly #replay = new ReplayWindow();

  /** @param keys From `Handshake.beginSession()`. */
  constructor(keys: SessionKeys, createdAt: number) {
    this.localIndex = keys.localIndex;
    this.remoteIndex = keys.remoteIndex;
    this.isInitiator = keys.isInitiator;
    this.createdAt = createdAt;
    this.#sendKey = keys.sendKey;
    this.#receiveKey = keys.receiveKey;
  }

  /** Counter of the next message to send (= messages sent so far). */
  get sendCounter(): number {
    return this.#sendCounter;
  }

  /**
   * Seals `packet` (empty for a keepalive) into a transport message, padded to
   * a multiple of 16 bytes but not past `mtu` (a packet larger than `mtu` is
   * padded to 16 all the same).
   * @returns undefined once the counter reached its limit (the key is spent).
   */
  seal(packet: Uint8Array, mtu = Infinity): Uint8Array | undefined {
    if (this.#sendCounter >= REJECT_AFTER_MESSAGES) return undefined;
    const counter = this.#sendCounter++;
    let padded = Math.ceil(packet.length / PADDING) * PADDING;
    if (padded > mtu && packet.length <= mtu) padded = mtu;
    let plaintext = packet;
    if (padded !== packet.length) {
      scratch.set(packet);
      scratch.fill(0, packet.length, padded);
      plaintext = scratch.subarray(0, padded);
    }
    setNonce(counter);
    const sealed = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
      plaintext,
      null,
      null,
      nonce,
      this.#sendKey,
    );
    const message = new Uint8Array(TRANSPORT_HEADER_SIZE + sealed.length);
    writeTransportHeader(message, { receiver: this.remoteIndex, counter });
    message.set(sealed, TRANSPORT_HEADER_SIZE);
    return message;
  }

  /**
   * Opens a transport message addressed to this session (its header already
   * decoded), and records its counter in the replay window.
   * @returns the padded plaintext (empty for a keepalive), or why it was
   * refused: "unauthenticated" (forged, corrupt, or a zeroed key) or
   * "replayed" (a copy, too old, or a counter out of range).
   */
  open(message: Uint8Array, counter: number): Uint8Array | "unauthenticated" | "replayed" {
    if (this.#zeroed || message.length < KEEPALIVE_SIZE) return "unauthenticated";
    if (!(counter < REJECT_AFTER_MESSAGES)) return "replayed";
    setNonce(counter);
    let plaintext;
    try {
      plaintext = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
        null,
        message.subarray(TRANSPORT_HEADER_SIZE),
        null,
        nonce,
        this.#receiveKey,
      );
    } catch {
      return "unauthenticated";
    }
    // Only after authentication, so forged counters cannot move the window.
    if (!this.#replay.accept(counter)) return "replayed";
    return plaintext;
  }

  /** Overwrites the keys; the keypair seals and opens nothing afterwards. */
  zero(): void {
    this.#sendKey.fill(0);
    this.#receiveKey.fill(0);
    this.#sendCounter = REJECT_AFTER_MESSAGES;
    // All-zero keys are known to everyone: nothing may authenticate under them.
    this.#zeroed = true;
  }
}

/** Overhead of a transport message over its padded payload. */
export const TRANSPORT_OVERHEAD: number = TRANSPORT_HEADER_SIZE + TAG_SIZE;

function setNonce(counter: number): void {
  nonceView.setUint32(4, counter % 0x1_0000_0000, true);
  nonceView.setUint32(8, Math.floor(counter / 0x1_0000_0000), true);
}
