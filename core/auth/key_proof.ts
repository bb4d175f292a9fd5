/**
 * Proof of possession of a client key (sans-IO): the server draws a fresh
 * random nonce for each connection; the client signs a domain-separated message
 * of that nonce and the server's own public key (its EndpointId). A proof
 * therefore answers one challenge of one server: it cannot be replayed to
 * another connection (another nonce) nor relayed to another server (another
 * key), and a signature made here cannot be taken for one of another protocol.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import type { AuthorizedKey, AuthorizedKeys } from "./authorized_keys.ts";
import type { ClientKey } from "./client_key.ts";

/** Bytes of a challenge nonce. */
export const CHALLENGE_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
/** Bytes of the server's public key the proof is bound to. */
export const SERVER_ID_BYTES = 32;

/** Starts every signed message: this protocol and version, ended by NUL. */
const DOMAIN = new TextEncoder().encode("tunnel client-key proof v1\0");

/**
 * The message a client signs: the domain string, the nonce, the server's key.
 * @throws {RangeError} when the nonce or the server's key has the wrong length.
 */
export function keyProofMessage(nonce: Uint8Array, serverId: Uint8Array): Uint8Array {
  if (nonce.length !== CHALLENGE_BYTES) {
    throw new RangeError(`Cannot make a key proof: nonce of ${nonce.length} bytes`);
  }
  if (serverId.length !== SERVER_ID_BYTES) {
    throw new RangeError(`Cannot make a key proof: server key of ${serverId.length} bytes`);
  }
  const message = new Uint8Array(DOMAIN.length + CHALLENGE_BYTES + SERVER_ID_BYTES);
  message.set(DOMAIN);
  message.set(nonce, DOMAIN.length);
  message.set(serverId, DOMAIN.length + CHALLENGE_BYTES);
  return message;
}

/**
 * The client's answer to `nonce` from the server whose key is `serverId` (the
 * EndpointId it dialed, which the connection's handshake proved).
 */
export function proveKeyPossession(
  key: ClientKey,
  nonce: Uint8Array,
  serverId: Uint8Array,
): Uint8Array {
  return key.sign(keyProofMessage(nonce, serverId));
}

/**
 * The server's side of one key authentication: made when a client names its
 * public key, it holds a fresh nonce to send, then checks the one answer.
 */
export class KeyChallenge {
  /** The nonce to send the client. */
  readonly nonce: Uint8Array;
  readonly #publicKey: Uint8Array;
  readonly #serverId: Uint8Array;
  #answered = false;

  /**
   * A challenge for a client that named `publicKey`, to a server whose key is
   * `serverId`. `random` fills the nonce (the system's CSPRNG unless a test
   * needs a known one).
   */
  constructor(
    publicKey: Uint8Array,
    serverId: Uint8Array,
    random: (bytes: Uint8Array) => Uint8Array = (bytes) => crypto.getRandomValues(bytes),
  ) {
    this.#publicKey = Uint8Array.from(publicKey);
    this.#serverId = Uint8Array.from(serverId);
    this.nonce = random(new Uint8Array(CHALLENGE_BYTES));
  }

  /**
   * Checks the client's signature, once: the entry of its key when the key is
   * accepted and the signature answers this nonce for this server, otherwise
   * `undefined`, the same for an unknown key as for a bad signature. A second
   * answer is never accepted, so a challenge cannot be tried twice.
   */
  verify(signature: Uint8Array, keys: AuthorizedKeys): AuthorizedKey | undefined {
    if (this.#answered) return undefined;
    this.#answered = true;
    // Both checks always run, so the time taken tells little about which failed.
    const entry = keys.find(this.#publicKey);
    let valid = false;
    if (signature.length === SIGNATURE_BYTES) {
      try {
        // Strict RFC 8032 checks (zip215 off): one signature, one accepted encoding.
        valid = ed25519.verify(
          signature,
          keyProofMessage(this.nonce, this.#serverId),
          this.#publicKey,
          { zip215: false },
        );
      } catch {
        valid = false; // a public key that is no point of the curve
      }
    }
    return valid ? entry : undefined;
  }
}
