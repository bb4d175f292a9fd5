/**
 * Certificates that pin a QUIC peer to its EndpointId, with no certificate authority.
 *
 * The server presents a self-signed Ed25519 certificate made from its identity key.
 * The client, which knows only the EndpointId, builds a trust anchor with the same
 * subject and that public key: rustls takes an anchor's subject and key and never
 * checks the anchor's own signature, so the handshake succeeds only against the
 * holder of the key (see docs/SECURITY.md).
 * @module
 */
import type { EndpointId } from "./endpoint_id.ts";
import type { SecretKey } from "./secret_key.ts";
import {
  bitString,
  explicit,
  generalizedTime,
  integer,
  octetString,
  oid,
  sequence,
  set,
  toPem,
  utf8String,
} from "./_der.ts";

const ED25519 = sequence(oid("1.3.101.112"));
const COMMON_NAME = "2.5.4.3";
const SUBJECT_ALT_NAME = "2.5.29.17";
// Identity, not time, is what is pinned: the certificate is valid from 2020 "forever"
// (RFC 5280's no-expiry value), so clock skew between peers can never break a tunnel.
const NOT_BEFORE = "20200101000000Z";
const NOT_AFTER = "99991231235959Z";

/** The TLS server name both sides use for a given EndpointId. */
export function serverNameFor(id: EndpointId): string {
  return `${id.toString()}.tunnel.invalid`;
}

function tbsCertificate(id: EndpointId): Uint8Array {
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8String(id.toString()))));
  const dnsName = new TextEncoder().encode(serverNameFor(id));
  // [2] IMPLICIT IA5String dNSName inside GeneralNames.
  const altNames = sequence(Uint8Array.of(0x82, dnsName.length, ...dnsName));
  const extensions = explicit(3, sequence(sequence(oid(SUBJECT_ALT_NAME), octetString(altNames))));
  return sequence(
    explicit(0, integer(Uint8Array.of(2))), // X.509 v3
    integer(Uint8Array.of(0x01, ...id.bytes.subarray(0, 15))),
    ED25519,
    name,
    sequence(generalizedTime(NOT_BEFORE), generalizedTime(NOT_AFTER)),
    name,
    sequence(ED25519, bitString(id.bytes)),
    extensions,
  );
}

/** PEM certificate and PKCS#8 key for a QUIC server holding `key`. */
export interface ServerCredentials {
  /** The self-signed X.509 certificate, PEM ("CERTIFICATE"). */
  cert: string;
  /** The Ed25519 private key, PKCS#8 PEM ("PRIVATE KEY"). */
  key: string;
}

/** Builds the self-signed certificate and private key a server presents. */
export function serverCredentials(key: SecretKey): ServerCredentials {
  const tbs = tbsCertificate(key.endpointId);
  const cert = sequence(tbs, ED25519, bitString(key.sign(tbs)));
  const pkcs8 = sequence(integer(Uint8Array.of(0)), ED25519, octetString(octetString(key.seed())));
  return { cert: toPem("CERTIFICATE", cert), key: toPem("PRIVATE KEY", pkcs8) };
}

/**
 * Builds the trust anchor that makes a client accept only the server holding `id`'s key.
 * Its signature is never checked by rustls, so it carries zeros.
 */
export function trustAnchorFor(id: EndpointId): string {
  const tbs = tbsCertificate(id);
  return toPem("CERTIFICATE", sequence(tbs, ED25519, bitString(new Uint8Array(64))));
}
