/**
 * The Noise IKpsk2 pattern (25519, ChaChaPoly, BLAKE2s) on its own, without
 * WireGuard's framing: two messages, then split into two transport keys.
 * The protocol name and prologue are parameters, so the same code runs
 * WireGuard's handshake (its construction string and identifier) and the
 * generic Noise test vectors.
 *
 * ```text
 * IKpsk2:
 *   <- s
 *   ...
 *   -> e, es, s, ss
 *   <- e, ee, se, psk
 * ```
 * @module
 */
import {
  aeadOpen,
  aeadSeal,
  dh,
  generatePrivateKey,
  hash,
  kdf,
  KEY_SIZE,
  publicKeyOf,
} from "./noise_primitives.ts";

/** The name and prologue a Noise handshake starts from. */
export interface NoiseProtocol {
  /** The protocol name, WireGuard's "construction". */
  name: string;
  /** The prologue, WireGuard's "identifier". */
  prologue: Uint8Array;
}

/** Keys and options of one side of an IKpsk2 handshake. */
export interface NoiseOptions {
  initiator: boolean;
  localStaticPrivate: Uint8Array;
  /** The responder's static public key; the initiator must know it, the responder learns the initiator's. */
  remoteStaticPublic?: Uint8Array;
  /** 32 bytes; WireGuard uses zeros when no preshared key is configured. */
  presharedKey: Uint8Array;
  /** Makes the ephemeral key; tests inject fixed keys, real use leaves the random default. */
  generateEphemeral?: () => Uint8Array;
}

/** The first message's parts. */
export interface NoiseMessage1 {
  ephemeral: Uint8Array;
  encryptedStatic: Uint8Array;
  encryptedPayload: Uint8Array;
}

/** The second message's parts. */
export interface NoiseMessage2 {
  ephemeral: Uint8Array;
  encryptedPayload: Uint8Array;
}

/** Raised for a message that does not authenticate; the handshake is then unusable. */
export class NoiseError extends Error {
  /** @param message What failed. */
  constructor(message: string) {
    super(message);
    this.name = "NoiseError";
  }
}

/** One side of a Noise IKpsk2 handshake, used once. */
export class NoiseIKpsk2 {
  readonly #initiator: boolean;
  readonly #s: Uint8Array;
  readonly #sPublic: Uint8Array;
  readonly #psk: Uint8Array;
  readonly #generateEphemeral: () => Uint8Array;
  #rs: Uint8Array | undefined;
  #e: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  #ck: Uint8Array;
  #h: Uint8Array;
  #k: Uint8Array | undefined;
  #n = 0;

  /** Initializes the symmetric state: protocol name, prologue, and the responder's static key. */
  constructor(protocol: NoiseProtocol, options: NoiseOptions) {
    this.#initiator = options.initiator;
    this.#s = options.localStaticPrivate;
    this.#sPublic = publicKeyOf(options.localStaticPrivate);
    this.#psk = options.presharedKey;
    this.#generateEphemeral = options.generateEphemeral ?? generatePrivateKey;
    this.#rs = options.remoteStaticPublic;
    const name = new TextEncoder().encode(protocol.name);
    if (name.length <= KEY_SIZE) {
      this.#h = new Uint8Array(KEY_SIZE);
      this.#h.set(name);
    } else {
      this.#h = hash(name);
    }
    this.#ck = this.#h.slice();
    this.#mixHash(protocol.prologue);
    const responderStatic = this.#initiator ? this.#rs : this.#sPublic;
    if (!responderStatic) {
      throw new TypeError(
        "Cannot start an IK handshake: the initiator needs the responder's static key",
      );
    }
    this.#mixHash(responderStatic);
  }

  /** The handshake hash (a transcript digest both sides share once done). */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** The remote static key, known after message 1 on the responder's side. */
  get remoteStatic(): Uint8Array | undefined {
    return this.#rs;
  }

  /** Initiator: `-> e, es, s, ss` and the payload. */
  writeMessage1(payload: Uint8Array): NoiseMessage1 {
    this.#e = this.#generateEphemeral();
    const ephemeral = publicKeyOf(this.#e);
    this.#mixEphemeral(ephemeral);
    this.#mixKey(dh(this.#e, this.#rs!));
    const encryptedStatic = this.#encryptAndHash(this.#sPublic);
    this.#mixKey(dh(this.#s, this.#rs!));
    return { ephemeral, encryptedStatic, encryptedPayload: this.#encryptAndHash(payload) };
  }

  /**
   * Responder: reads message 1 and returns its payload.
   * @throws {NoiseError} when it does not authenticate.
   */
  readMessage1(message: NoiseMessage1): Uint8Array {
    return this.#transaction(() => this.#readMessage1(message));
  }

  #readMessage1(message: NoiseMessage1): Uint8Array {
    this.#re = message.ephemeral.slice();
    this.#mixEphemeral(this.#re);
    this.#mixKey(this.#dh(this.#s, this.#re));
    this.#rs = this.#decryptAndHash(message.encryptedStatic);
    this.#mixKey(this.#dh(this.#s, this.#rs));
    return this.#decryptAndHash(message.encryptedPayload);
  }

  /** Responder: `<- e, ee, se, psk` and the payload. */
  writeMessage2(payload: Uint8Array): NoiseMessage2 {
    this.#e = this.#generateEphemeral();
    const ephemeral = publicKeyOf(this.#e);
    this.#mixEphemeral(ephemeral);
    this.#mixKey(this.#dh(this.#e, this.#re!));
    this.#mixKey(this.#dh(this.#e, this.#rs!));
    this.#mixKeyAndHash(this.#psk);
    return { ephemeral, encryptedPayload: this.#encryptAndHash(payload) };
  }

  /**
   * Initiator: reads message 2 and returns its payload.
   * @throws {NoiseError} when it does not authenticate.
   */
  readMessage2(message: NoiseMessage2): Uint8Array {
    return this.#transaction(() => this.#readMessage2(message));
  }

  #readMessage2(message: NoiseMessage2): Uint8Array {
    this.#re = message.ephemeral.slice();
    this.#mixEphemeral(this.#re);
    this.#mixKey(this.#dh(this.#e!, this.#re));
    this.#mixKey(this.#dh(this.#s, this.#re));
    this.#mixKeyAndHash(this.#psk);
    return this.#decryptAndHash(message.encryptedPayload);
  }

  /**
   * Split: the two transport keys, as this side uses them, and forgets the
   * handshake's secrets.
   */
  split(): { sendKey: Uint8Array; receiveKey: Uint8Array } {
    const [first, second] = kdf(2, this.#ck, new Uint8Array(0));
    this.#ck.fill(0);
    this.#e?.fill(0);
    this.#k?.fill(0);
    return this.#initiator
      ? { sendKey: first, receiveKey: second }
      : { sendKey: second, receiveKey: first };
  }

  // A forged message must not spoil the state for the genuine one that may
  // follow it: every step makes new arrays, so keeping the old references
  // and putting them back undoes a failed read.
  #transaction<T>(read: () => T): T {
    const saved = { ck: this.#ck, h: this.#h, k: this.#k, n: this.#n, re: this.#re, rs: this.#rs };
    try {
      return read();
    } catch (error) {
      ({ ck: this.#ck, h: this.#h, k: this.#k, n: this.#n, re: this.#re, rs: this.#rs } = saved);
      throw error;
    }
  }

  #dh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
    try {
      return dh(privateKey, publicKey);
    } catch {
      throw new NoiseError("Cannot complete the handshake: the peer sent a key of low order");
    }
  }

  #mixHash(data: Uint8Array): void {
    this.#h = hash(this.#h, data);
  }

  // "e" in a psk handshake also feeds the chaining key (Noise spec, section 9.2).
  #mixEphemeral(ephemeral: Uint8Array): void {
    this.#mixHash(ephemeral);
    this.#mixKey(ephemeral);
  }

  #mixKey(input: Uint8Array): void {
    const [ck, k] = kdf(2, this.#ck, input);
    this.#ck = ck;
    this.#k = k;
    this.#n = 0;
  }

  #mixKeyAndHash(input: Uint8Array): void {
    const [ck, h, k] = kdf(3, this.#ck, input);
    this.#ck = ck;
    this.#mixHash(h);
    this.#k = k;
    this.#n = 0;
  }

  #encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = aeadSeal(this.#k!, this.#n++, plaintext, this.#h);
    this.#mixHash(ciphertext);
    return ciphertext;
  }

  #decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = aeadOpen(this.#k!, this.#n++, ciphertext, this.#h);
    if (!plaintext) {
      throw new NoiseError("Cannot complete the handshake: a message did not authenticate");
    }
    this.#mixHash(ciphertext);
    return plaintext;
  }
}
