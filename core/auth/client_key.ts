/**
 * Client keys: Ed25519 key pairs a client proves possession of instead of
 * presenting a shared token, in tunnel-rs's text forms so key files and
 * authorized-keys lines move between the two tools unchanged:
 *
 * - public key: `tunnelrsv1authpub:` and the unpadded URL-safe base64 of the 32-byte key;
 * - secret key: `tunnelrsv1authsecret:` and the unpadded URL-safe base64 of the 32-byte seed;
 * - a secret key file: `#` comment lines and exactly one secret key line.
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";

/** Prefix of a client public key's text form. */
export const CLIENT_PUBLIC_KEY_PREFIX = "tunnelrsv1authpub:";
/** Prefix of a client secret key's text form. */
export const CLIENT_SECRET_KEY_PREFIX = "tunnelrsv1authsecret:";
/** Bytes of a client public key and of a secret seed. */
export const CLIENT_KEY_BYTES = 32;
/**
 * Longest comment an authorized-keys line may carry, in characters: it names a
 * person or a machine in logs, and anything longer is the wrong file.
 */
export const MAX_KEY_COMMENT_LENGTH = 256;

const BASE64URL_32 = /^[A-Za-z0-9_-]{43}$/;

/** Unpadded URL-safe base64 of `bytes`. */
function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Decodes unpadded URL-safe base64 of exactly 32 bytes, in its one canonical
 * form (the last character's unused bits zero), or `undefined`.
 */
function fromBase64Url32(text: string): Uint8Array | undefined {
  if (!BASE64URL_32.test(text)) return undefined;
  const bytes = Uint8Array.from(
    atob(text.replaceAll("-", "+").replaceAll("_", "/") + "="),
    (c) => c.charCodeAt(0),
  );
  // Two spellings of one key would be two lines that look different and are the same key.
  return toBase64Url(bytes) === text ? bytes : undefined;
}

/** Why `text` is not a key of the given prefix, or its 32 bytes. */
function decodeKeyText(
  text: string,
  prefix: string,
  what: string,
): { bytes: Uint8Array } | { problem: string } {
  if (!text.startsWith(prefix)) {
    return { problem: `expected '${prefix}' followed by URL-safe base64 (${what})` };
  }
  const bytes = fromBase64Url32(text.slice(prefix.length));
  if (!bytes) {
    return { problem: `expected 43 characters of URL-safe base64 (32 bytes) after '${prefix}'` };
  }
  return { bytes };
}

/** A client's public key: what a server lists in its authorized keys. */
export class ClientPublicKey {
  /** The 32 bytes of the Ed25519 public key. */
  readonly bytes: Uint8Array;

  /**
   * Wraps 32 bytes of an Ed25519 public key.
   * @throws {TypeError} unless they are 32 bytes encoding a point of the curve.
   */
  constructor(bytes: Uint8Array) {
    const problem = publicKeyBytesProblem(bytes);
    if (problem) throw new TypeError(`Invalid client public key: ${problem}`);
    this.bytes = Uint8Array.from(bytes);
  }

  /**
   * Parses the text form, `tunnelrsv1authpub:` and base64.
   * @throws {TypeError} naming what is wrong.
   */
  static parse(text: string): ClientPublicKey {
    const decoded = decodeKeyText(text.trim(), CLIENT_PUBLIC_KEY_PREFIX, "a client public key");
    if ("problem" in decoded) throw new TypeError(`Invalid client public key: ${decoded.problem}`);
    return new ClientPublicKey(decoded.bytes);
  }

  /** The text form, `tunnelrsv1authpub:` and base64. */
  toString(): string {
    return clientPublicKeyText(this.bytes);
  }
}

/**
 * The text form of 32 bytes a peer sent as a public key, checked for nothing
 * (for logs: a key that is no point of the curve is still named as sent).
 */
export function clientPublicKeyText(bytes: Uint8Array): string {
  return CLIENT_PUBLIC_KEY_PREFIX + toBase64Url(bytes);
}

/** What is wrong with `bytes` as an Ed25519 public key, or `undefined`. */
export function publicKeyBytesProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length !== CLIENT_KEY_BYTES) return `expected 32 bytes, got ${bytes.length}`;
  try {
    ed25519.Point.fromBytes(bytes);
  } catch {
    return "not a point of the Ed25519 curve";
  }
  return undefined;
}

/** A client's secret key (the Ed25519 seed) with its public half. */
export class ClientKey {
  readonly #seed: Uint8Array;
  /** The public half, for the server's authorized keys. */
  readonly publicKey: ClientPublicKey;

  /**
   * Wraps a 32-byte seed (kept as a private copy).
   * @throws {TypeError} unless `seed` is 32 bytes long.
   */
  constructor(seed: Uint8Array) {
    if (seed.length !== CLIENT_KEY_BYTES) {
      throw new TypeError(`Invalid client secret key: expected 32 bytes, got ${seed.length}`);
    }
    this.#seed = Uint8Array.from(seed);
    this.publicKey = new ClientPublicKey(ed25519.getPublicKey(this.#seed));
  }

  /** A fresh key from the system's CSPRNG. */
  static generate(): ClientKey {
    return new ClientKey(crypto.getRandomValues(new Uint8Array(CLIENT_KEY_BYTES)));
  }

  /**
   * Parses the text form, `tunnelrsv1authsecret:` and base64.
   * @throws {TypeError} naming what is wrong (never quoting the text: it is a secret).
   */
  static parse(text: string): ClientKey {
    const decoded = decodeKeyText(text.trim(), CLIENT_SECRET_KEY_PREFIX, "a client secret key");
    if ("problem" in decoded) throw new TypeError(`Invalid client secret key: ${decoded.problem}`);
    return new ClientKey(decoded.bytes);
  }

  /** The secret text form. Handle with care. */
  secretText(): string {
    return CLIENT_SECRET_KEY_PREFIX + toBase64Url(this.#seed);
  }

  /** Signs `message` with Ed25519. */
  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.#seed);
  }

  /** Never the secret: logging a key by mistake shows its public half only. */
  toString(): string {
    return `ClientKey(${this.publicKey})`;
  }
}

/** What is wrong with `comment` as an authorized-keys comment, or `undefined`. */
export function keyCommentProblem(comment: string): string | undefined {
  if (/[\r\n]/.test(comment)) return "a comment cannot hold a line break";
  if (comment.length > MAX_KEY_COMMENT_LENGTH) {
    return `comment of ${comment.length} characters (at most ${MAX_KEY_COMMENT_LENGTH})`;
  }
  return undefined;
}

/**
 * The authorized-keys line of `key`: its text form, and after one space the
 * comment when there is one.
 * @throws {TypeError} when the comment holds a line break or is too long.
 */
export function authorizedKeyLine(key: ClientPublicKey, comment = ""): string {
  const trimmed = comment.trim();
  const problem = keyCommentProblem(trimmed);
  if (problem) throw new TypeError(`Invalid key comment: ${problem}`);
  return trimmed === "" ? key.toString() : `${key} ${trimmed}`;
}

/**
 * The content of a secret key file for `key`: what it is, its authorized-keys
 * line (so a lost public half can be read back), then the secret line.
 * tunnel-rs reads it, and {@linkcode parseClientKeyFile} reads tunnel-rs's.
 */
export function clientKeyFileText(key: ClientKey, comment = ""): string {
  return [
    "# tunnel client authentication key (Ed25519 secret key): keep it private",
    `# Created: ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}`,
    `# Public key: ${authorizedKeyLine(key.publicKey, comment)}`,
    key.secretText(),
    "",
  ].join("\n");
}

/** A secret key file that holds no valid key. */
export class ClientKeyFileError extends TypeError {
  /** Always "ClientKeyFileError". */
  override name = "ClientKeyFileError";
  /** The file as named. */
  readonly path: string;
  /** What is wrong with its content. */
  readonly problem: string;

  /** The error for `path`, whose content has `problem`. */
  constructor(path: string, problem: string) {
    super(`Invalid client key file '${path}': ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Reads a secret key file's content: `#` comment lines and blank lines are
 * skipped, and exactly one line must hold the secret key.
 * @throws {ClientKeyFileError} naming `path` and the problem.
 */
export function parseClientKeyFile(text: string, path: string): ClientKey {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) =>
    line !== "" && !line.startsWith("#")
  );
  if (lines.length === 0) throw new ClientKeyFileError(path, "no key in it");
  if (lines.length > 1) {
    throw new ClientKeyFileError(path, `${lines.length} key lines (expected one)`);
  }
  if (lines[0].startsWith(CLIENT_PUBLIC_KEY_PREFIX)) {
    throw new ClientKeyFileError(
      path,
      "it holds a public key; the client needs the secret key file",
    );
  }
  try {
    return ClientKey.parse(lines[0]);
  } catch (error) {
    throw new ClientKeyFileError(path, (error as Error).message.replace(/^Invalid [^:]*: /, ""));
  }
}
