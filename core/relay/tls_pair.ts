/**
 * Checks a TLS certificate chain and private key (PEM) before a server uses
 * them: `node:https` takes any text and fails only at each handshake, so a bad
 * file would otherwise be found by clients, not by the operator.
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";

/** A certificate chain and its private key, PEM text. */
export interface TlsPair {
  /** The certificate chain, leaf first. */
  cert: string;
  /** The private key of the leaf. */
  key: string;
}

/**
 * Checks that `pair.cert` starts with a certificate, `pair.key` is a private
 * key, and the key is the certificate's.
 *
 * @returns `pair`, unchanged.
 * @throws {Error} one line naming what is wrong.
 *
 * @example
 * ```ts
 * try {
 *   checkTlsPair({ cert: "not a certificate", key: "" });
 * } catch (error) {
 *   console.log((error as Error).message); // "the certificate is not PEM ..."
 * }
 * ```
 */
export function checkTlsPair(pair: TlsPair): TlsPair {
  if (!pair.cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new Error("the certificate is not PEM (no BEGIN CERTIFICATE block)");
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.cert);
  } catch {
    throw new Error("the certificate cannot be read (damaged PEM or not X.509)");
  }
  let key;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    throw new Error("the key is not a PEM private key");
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new Error("the key does not belong to the certificate");
  }
  return pair;
}
