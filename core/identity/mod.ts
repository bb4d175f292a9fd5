/**
 * Peer identity: Ed25519 keys, the EndpointId that names a peer, and the
 * certificates that pin a QUIC connection to it.
 *
 * ```ts
 * import { SecretKey, serverCredentials, trustAnchorFor } from "./mod.ts";
 * const key = SecretKey.generate();
 * console.log(key.endpointId.toString()); // 52 base32 characters
 * const { cert, key: pem } = serverCredentials(key);
 * const anchor = trustAnchorFor(key.endpointId);
 * ```
 * @module
 */
export { ENDPOINT_ID_BASE32_LENGTH, EndpointId } from "./endpoint_id.ts";
export { SecretKey } from "./secret_key.ts";
export { verifyStrict } from "./strict_signature.ts";
export {
  type ServerCredentials,
  serverCredentials,
  serverNameFor,
  trustAnchorFor,
} from "./certificate.ts";
export { readSecretKeyFile, SecretKeyFileError, writeSecretKeyFile } from "./key_file.ts";
export { encodeBase32 } from "./base32.ts";
