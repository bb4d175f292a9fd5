/**
 * Self-signed server certificates for TLS tests, made by openssl: each is its
 * own trust anchor (a test trusts it with `DENO_CERT` or `caCerts`) and is
 * presented as a server certificate, so it is not a CA.
 * @module
 */
import { runCommand } from "./run_command.ts";

/** Where {@linkcode makeSelfSignedCertificate} wrote a certificate and its key (PEM). */
export interface CertificateFiles {
  /** The certificate, `<dir>/<name>.pem`. */
  cert: string;
  /** Its private key, `<dir>/<name>.key`. */
  key: string;
}

/**
 * Makes a P-256 certificate for `subjectAltName` (`DNS:relay.test`,
 * `IP:127.0.0.1`), valid one day, in `dir`.
 * @throws {Error} with openssl's output when it fails.
 */
export async function makeSelfSignedCertificate(
  dir: string,
  name: string,
  subjectAltName: string,
): Promise<CertificateFiles> {
  const files = { cert: `${dir}/${name}.pem`, key: `${dir}/${name}.key` };
  const made = await runCommand("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      `/CN=${subjectAltName.replace(/^[A-Z]+:/, "")}`,
      "-addext",
      `subjectAltName=${subjectAltName}`,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-days",
      "1",
      "-keyout",
      files.key,
      "-out",
      files.cert,
    ],
    timeoutMs: 20_000,
  });
  if (made.code !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
  return files;
}
