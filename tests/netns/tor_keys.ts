/**
 * Keys of the private Tor network's directory authorities: a v3 identity and signing key
 * from `tor-gencert`, and the relay identity key tor itself creates on first start (read
 * back with `tor --list-fingerprint`). Runs no network I/O.
 * @module
 */
import { mustRun, tool } from "./command.ts";
import { authorityDirPort, type AuthorityIdentity, authorityOrPort } from "./tor_config.ts";

/** Parses the `fingerprint` line of a v3 authority certificate. */
export function certificateFingerprint(certificate: string): string {
  const match = /^fingerprint ([0-9A-F]{40})$/m.exec(certificate);
  if (!match) throw new Error("tor-gencert wrote a certificate without a fingerprint line");
  return match[1];
}

/** Parses `tor --list-fingerprint`'s last line, `<nickname> XXXX XXXX ...`. */
export function listedFingerprint(output: string, nickname: string): string {
  const line = output.trim().split("\n").find((l) => l.startsWith(`${nickname} `));
  const hex = line?.slice(nickname.length + 1).replaceAll(" ", "");
  if (!hex || !/^[0-9A-F]{40}$/.test(hex)) {
    throw new Error(`tor --list-fingerprint printed no fingerprint for ${nickname}`);
  }
  return hex;
}

/**
 * Creates authority `i`'s keys in `dataDir/keys` (a 12-month certificate, no passphrase)
 * and its relay identity, and returns what the DirAuthority lines need.
 */
export async function createAuthorityKeys(i: number, dataDir: string): Promise<AuthorityIdentity> {
  const nickname = `auth${i}`;
  const keys = `${dataDir}/keys`;
  await Deno.mkdir(keys, { recursive: true, mode: 0o700 });
  await mustRun([
    tool("tor-gencert", "tor"),
    "--create-identity-key",
    "-m",
    "12",
    "-a",
    `127.0.0.1:${authorityDirPort(i)}`,
    "-i",
    `${keys}/authority_identity_key`,
    "-s",
    `${keys}/authority_signing_key`,
    "-c",
    `${keys}/authority_certificate`,
    // An empty passphrase from stdin: the key files stay unencrypted, as tor needs them.
    "--passphrase-fd",
    "0",
  ], { stdin: "\n" });
  const v3Ident = certificateFingerprint(
    await Deno.readTextFile(`${keys}/authority_certificate`),
  );
  // Neither /etc/tor/torrc nor Debian's defaults file may add anything (a public
  // authority): both are replaced by an empty file (tor wants a regular file).
  const empty = `${dataDir}/empty.torrc`;
  await Deno.writeTextFile(empty, "");
  const listed = await mustRun([
    tool("tor", "tor"),
    "-f",
    empty,
    "--defaults-torrc",
    empty,
    "--list-fingerprint",
    "--DataDirectory",
    dataDir,
    "--Nickname",
    nickname,
    "--ORPort",
    String(authorityOrPort(i)),
    // --list-fingerprint parses a full configuration; a placeholder authority keeps tor
    // from falling back to the public ones while it only creates and prints the key.
    "--DirAuthority",
    `placeholder 127.0.0.1:1 ${"0".repeat(40)}`,
  ]);
  return {
    nickname,
    orPort: authorityOrPort(i),
    dirPort: authorityDirPort(i),
    v3Ident,
    fingerprint: listedFingerprint(listed, nickname),
  };
}
