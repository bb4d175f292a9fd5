/**
 * WireGuard's handshake with one peer as an explicit state machine
 * (sans-IO), with paired functions as wireguard-go names them:
 * createInitiation / consumeInitiation, createResponse / consumeResponse,
 * then beginSession for the transport keys. mac1 and mac2 are not its
 * business (see cookie.ts): messages leave here with zero macs, and arrive
 * here after their macs were checked.
 *
 * ```text
 * initiator: zeroed -> initiation-created -> (consumeResponse) response-consumed -> beginSession -> zeroed
 * responder: zeroed -> (consumeInitiation) initiation-consumed -> response-created -> beginSession -> zeroed
 * ```
 * @module
 */
import {
  decodeInitiation,
  decodeResponse,
  encodeInitiation,
  encodeResponse,
  WireGuardMessageError,
} from "./messages.ts";
import { NoiseError, NoiseIKpsk2, type NoiseProtocol } from "./noise_ikpsk2.ts";
import { compareBytes, equalBytes, KEY_SIZE, tai64n, TIMESTAMP_SIZE } from "./noise_primitives.ts";
import { MIN_INITIATION_INTERVAL } from "./timers.ts";

/** The Noise protocol name WireGuard calls its "construction". */
export const CONSTRUCTION = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
/** WireGuard's "identifier", the Noise prologue. */
export const IDENTIFIER = "WireGuard v1 zx2c4 Jason@zx2c4.com";
/** WireGuard's Noise protocol: its construction and identifier. */
export const WIREGUARD_NOISE: NoiseProtocol = {
  name: CONSTRUCTION,
  prologue: new TextEncoder().encode(IDENTIFIER),
};

/** Where a handshake stands. */
export type HandshakeState =
  | "zeroed"
  | "initiation-created"
  | "initiation-consumed"
  | "response-created"
  | "response-consumed";

/** Why a handshake message was refused. */
export type HandshakeRefusal =
  /** Wrong length or type. */
  | "malformed"
  /** Does not authenticate (forged, corrupt, wrong keys or preshared key). */
  | "unauthenticated"
  /** Authenticates, but from a static key other than the configured peer's. */
  | "unknown-peer"
  /** A timestamp not newer than the newest seen: a replayed initiation. */
  | "replayed"
  /** An initiation sooner than {@link MIN_INITIATION_INTERVAL} after the last one. */
  | "flood"
  /** The message does not fit the state (a response to no initiation of ours). */
  | "unexpected";

/** Keys and indices of a new session, from {@link Handshake.beginSession}. */
export interface SessionKeys {
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
  /** Our index: the peer puts it in messages to us. */
  localIndex: number;
  /** The peer's index: we put it in messages to the peer. */
  remoteIndex: number;
  /** Whether we initiated this handshake. */
  isInitiator: boolean;
}

/** Keys and clocks of a {@link Handshake}. */
export interface HandshakeOptions {
  /** Our static private key (32 bytes). */
  privateKey: Uint8Array;
  /** The peer's static public key (32 bytes): the only initiator accepted. */
  peerPublicKey: Uint8Array;
  /** 32 bytes; zeros (WireGuard's default) when absent. */
  presharedKey?: Uint8Array;
  /** Monotonic milliseconds, for the initiation flood limit. */
  now: () => number;
  /** Wall-clock milliseconds since 1970, for TAI64N timestamps. */
  wallClock: () => number;
  /** For tests: fixed ephemeral keys. */
  generateEphemeral?: () => Uint8Array;
}

/** The handshake state with one peer. Refusals leave the state as it was. */
export class Handshake {
  readonly #options: HandshakeOptions;
  readonly #psk: Uint8Array;
  #state: HandshakeState = "zeroed";
  #noise: NoiseIKpsk2 | undefined;
  #localIndex = 0;
  #remoteIndex = 0;
  // Kept across handshakes: replay and flood protection of initiations.
  #newestTimestamp: Uint8Array = new Uint8Array(TIMESTAMP_SIZE);
  #lastInitiationAt = -Infinity;

  /** @throws {RangeError} for keys that are not 32 bytes. */
  constructor(options: HandshakeOptions) {
    for (
      const [name, key] of [
        ["private key", options.privateKey],
        ["peer public key", options.peerPublicKey],
        ["preshared key", options.presharedKey ?? new Uint8Array(KEY_SIZE)],
      ] as const
    ) {
      if (key.length !== KEY_SIZE) {
        throw new RangeError(
          `Cannot set up WireGuard: the ${name} has ${key.length} bytes, expected 32`,
        );
      }
    }
    this.#options = options;
    this.#psk = options.presharedKey ?? new Uint8Array(KEY_SIZE);
  }

  /** The current state. */
  get state(): HandshakeState {
    return this.#state;
  }

  /** Our index of the handshake in progress (0 when zeroed). */
  get localIndex(): number {
    return this.#localIndex;
  }

  /** Starts a handshake as initiator: a 148-byte initiation with zero macs. Abandons any other. */
  createInitiation(localIndex: number): Uint8Array {
    this.#noise = new NoiseIKpsk2(WIREGUARD_NOISE, {
      initiator: true,
      localStaticPrivate: this.#options.privateKey,
      remoteStaticPublic: this.#options.peerPublicKey,
      presharedKey: this.#psk,
      generateEphemeral: this.#options.generateEphemeral,
    });
    const sent = this.#noise.writeMessage1(tai64n(this.#options.wallClock()));
    this.#state = "initiation-created";
    this.#localIndex = localIndex;
    return encodeInitiation({
      sender: localIndex,
      ephemeral: sent.ephemeral,
      encryptedStatic: sent.encryptedStatic,
      encryptedTimestamp: sent.encryptedPayload,
      mac1: new Uint8Array(16),
      mac2: new Uint8Array(16),
    });
  }

  /**
   * Takes the peer's initiation (macs already checked). On success the state
   * is "initiation-consumed" (any initiation of ours is abandoned, as in
   * wireguard-go: the peer's will complete first).
   * @returns undefined on success, else why it was refused.
   */
  consumeInitiation(bytes: Uint8Array): HandshakeRefusal | undefined {
    let message;
    try {
      message = decodeInitiation(bytes);
    } catch (error) {
      if (error instanceof WireGuardMessageError) return "malformed";
      throw error;
    }
    const noise = new NoiseIKpsk2(WIREGUARD_NOISE, {
      initiator: false,
      localStaticPrivate: this.#options.privateKey,
      presharedKey: this.#psk,
      generateEphemeral: this.#options.generateEphemeral,
    });
    let timestamp;
    try {
      timestamp = noise.readMessage1({
        ephemeral: message.ephemeral,
        encryptedStatic: message.encryptedStatic,
        encryptedPayload: message.encryptedTimestamp,
      });
    } catch (error) {
      if (error instanceof NoiseError) return "unauthenticated";
      throw error;
    }
    if (!equalBytes(noise.remoteStatic!, this.#options.peerPublicKey)) return "unknown-peer";
    if (compareBytes(timestamp, this.#newestTimestamp) <= 0) return "replayed";
    const now = this.#options.now();
    if (now - this.#lastInitiationAt < MIN_INITIATION_INTERVAL) return "flood";
    this.#newestTimestamp = timestamp;
    this.#lastInitiationAt = now;
    this.#noise = noise;
    this.#state = "initiation-consumed";
    this.#remoteIndex = message.sender;
    return undefined;
  }

  /**
   * Answers the consumed initiation: a 92-byte response with zero macs.
   * @throws {Error} when no initiation was consumed (a bug of the caller).
   */
  createResponse(localIndex: number): Uint8Array {
    if (this.#state !== "initiation-consumed") {
      throw new Error(`Cannot create a WireGuard response in state ${this.#state}`);
    }
    const sent = this.#noise!.writeMessage2(new Uint8Array(0));
    this.#state = "response-created";
    this.#localIndex = localIndex;
    return encodeResponse({
      sender: localIndex,
      receiver: this.#remoteIndex,
      ephemeral: sent.ephemeral,
      encryptedNothing: sent.encryptedPayload,
      mac1: new Uint8Array(16),
      mac2: new Uint8Array(16),
    });
  }

  /**
   * Takes the peer's response to our initiation (macs already checked).
   * @returns undefined on success (state "response-consumed"), else why it was refused.
   */
  consumeResponse(bytes: Uint8Array): HandshakeRefusal | undefined {
    let message;
    try {
      message = decodeResponse(bytes);
    } catch (error) {
      if (error instanceof WireGuardMessageError) return "malformed";
      throw error;
    }
    if (this.#state !== "initiation-created" || message.receiver !== this.#localIndex) {
      return "unexpected";
    }
    try {
      this.#noise!.readMessage2({
        ephemeral: message.ephemeral,
        encryptedPayload: message.encryptedNothing,
      });
    } catch (error) {
      if (error instanceof NoiseError) return "unauthenticated";
      throw error;
    }
    this.#state = "response-consumed";
    this.#remoteIndex = message.sender;
    return undefined;
  }

  /**
   * Derives the session's keys after a response was created or consumed,
   * and returns to "zeroed".
   * @throws {Error} in any other state (a bug of the caller).
   */
  beginSession(): SessionKeys {
    const isInitiator = this.#state === "response-consumed";
    if (!isInitiator && this.#state !== "response-created") {
      throw new Error(`Cannot begin a WireGuard session in state ${this.#state}`);
    }
    const { sendKey, receiveKey } = this.#noise!.split();
    const keys = {
      sendKey,
      receiveKey,
      localIndex: this.#localIndex,
      remoteIndex: this.#remoteIndex,
      isInitiator,
    };
    this.clear();
    return keys;
  }

  /** Forgets the handshake in progress (not the replay and flood memory). */
  clear(): void {
    this.#noise = undefined;
    this.#state = "zeroed";
    this.#localIndex = 0;
    this.#remoteIndex = 0;
  }
}
