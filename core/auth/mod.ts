/**
 * Client authentication: tokens (format, generation, constant-time checks) and
 * client keys (Ed25519 key pairs, a server's authorized keys, and the proof of
 * possession over a server's challenge).
 *
 * ```ts
 * import { generateToken, TokenSet } from "./mod.ts";
 * const token = generateToken();
 * const accepted = new TokenSet([token]);
 * accepted.has(new TextEncoder().encode(token)); // true
 * ```
 *
 * ```ts
 * import { ClientKey, KeyChallenge, parseAuthorizedKeys, proveKeyPossession } from "./mod.ts";
 * const key = ClientKey.generate();
 * const keys = parseAuthorizedKeys(`${key.publicKey} alice-laptop\n`, "authorized_keys");
 * const serverId = new Uint8Array(32); // the server's EndpointId bytes
 * const challenge = new KeyChallenge(key.publicKey.bytes, serverId);
 * const proof = proveKeyPossession(key, challenge.nonce, serverId);
 * challenge.verify(proof, keys)?.comment; // "alice-laptop"
 * ```
 * @module
 */
export {
  generateToken,
  parseToken,
  TOKEN_ALPHABET,
  TOKEN_LENGTH,
  TokenFormatError,
  tokenFormatError,
} from "./token.ts";
export { constantTimeEqual, parseTokensFile, TokenSet, TokensFileError } from "./token_set.ts";
export { BearerTokenSet } from "./bearer_tokens.ts";
export {
  authorizedKeyLine,
  CLIENT_KEY_BYTES,
  CLIENT_PUBLIC_KEY_PREFIX,
  CLIENT_SECRET_KEY_PREFIX,
  ClientKey,
  ClientKeyFileError,
  clientKeyFileText,
  ClientPublicKey,
  clientPublicKeyText,
  keyCommentProblem,
  MAX_KEY_COMMENT_LENGTH,
  parseClientKeyFile,
  publicKeyBytesProblem,
} from "./client_key.ts";
export {
  type AuthorizedKey,
  AuthorizedKeys,
  AuthorizedKeysError,
  MAX_AUTHORIZED_KEYS,
  parseAuthorizedKeys,
} from "./authorized_keys.ts";
export {
  CHALLENGE_BYTES,
  KeyChallenge,
  keyProofMessage,
  proveKeyPossession,
  SERVER_ID_BYTES,
  SIGNATURE_BYTES,
} from "./key_proof.ts";
