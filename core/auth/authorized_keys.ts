/**
 * A server's authorized keys: the client public keys it accepts, each with the
 * comment that names it in logs and in the status view. The file format is
 * tunnel-rs's (and OpenSSH's in spirit): one key per line, optionally followed
 * by a single space and a comment running to the end of the line; blank lines
 * and lines starting with `#` are skipped.
 * @module
 */
import { CLIENT_PUBLIC_KEY_PREFIX, ClientPublicKey, keyCommentProblem } from "./client_key.ts";
import { constantTimeEqual } from "./token_set.ts";

/**
 * Most keys one server accepts. Each authentication compares against every key
 * (so its time does not tell which matched): 10,000 keep that under a
 * millisecond, and a file with more is not a list of people.
 */
export const MAX_AUTHORIZED_KEYS = 10_000;

/** One accepted key. */
export interface AuthorizedKey {
  /** The key. */
  key: ClientPublicKey;
  /** The comment of its line ("" when it has none). */
  comment: string;
}

/** A line of an authorized-keys file that holds no valid key. */
export class AuthorizedKeysError extends TypeError {
  /** Always "AuthorizedKeysError". */
  override name = "AuthorizedKeysError";
  /** The file (or config setting), as named. */
  readonly origin: string;
  /** The line (from 1), or 0 for the file as a whole. */
  readonly line: number;
  /** What is wrong. */
  readonly problem: string;

  /** The error for line `line` of `origin` (0: the whole file). */
  constructor(origin: string, line: number, problem: string) {
    super(`${line > 0 ? `${origin}:${line}` : origin}: ${problem}`);
    this.origin = origin;
    this.line = line;
    this.problem = problem;
  }
}

/** The client keys a server accepts. */
export class AuthorizedKeys {
  readonly #entries: AuthorizedKey[];

  /**
   * Holds `entries`; a key listed twice keeps its first comment.
   * @throws {RangeError} past {@linkcode MAX_AUTHORIZED_KEYS} keys.
   */
  constructor(entries: Iterable<AuthorizedKey> = []) {
    const seen = new Set<string>();
    this.#entries = [];
    for (const entry of entries) {
      const text = entry.key.toString();
      if (seen.has(text)) continue;
      seen.add(text);
      this.#entries.push(entry);
      if (this.#entries.length > MAX_AUTHORIZED_KEYS) {
        throw new RangeError(`more than ${MAX_AUTHORIZED_KEYS} authorized keys`);
      }
    }
  }

  /** How many distinct keys are accepted. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * The entry of `publicKey`, if it is accepted. Every key is compared in full,
   * so the time taken does not tell which one (or how much of one) matched.
   */
  find(publicKey: Uint8Array): AuthorizedKey | undefined {
    let found: AuthorizedKey | undefined;
    for (const entry of this.#entries) {
      const equal = constantTimeEqual(entry.key.bytes, publicKey);
      found = equal ? entry : found;
    }
    return found;
  }
}

/** Why `line` (not blank, not a comment) is no authorized key, or its entry. */
function parseLine(line: string): AuthorizedKey | string {
  const space = line.indexOf(" ");
  const token = space < 0 ? line : line.slice(0, space);
  const comment = space < 0 ? "" : line.slice(space + 1).trim();
  if (!token.startsWith(CLIENT_PUBLIC_KEY_PREFIX)) {
    if (token.startsWith("tunnelrsv1authsecret:")) {
      return "this is a client's secret key: list its public key (tunnel show-client-key)";
    }
    return `expected '${CLIENT_PUBLIC_KEY_PREFIX}' followed by URL-safe base64, and an optional comment`;
  }
  let key: ClientPublicKey;
  try {
    key = ClientPublicKey.parse(token);
  } catch (error) {
    // "Invalid client public key: why": the caller's message already says what is invalid.
    return (error as Error).message.replace(/^Invalid [^:]*: /, "");
  }
  const problem = keyCommentProblem(comment);
  return problem ?? { key, comment };
}

/**
 * Parses an authorized-keys file's content; `origin` names it in errors.
 * @throws {AuthorizedKeysError} naming the first bad line and its problem, or
 * the file when it holds more than {@linkcode MAX_AUTHORIZED_KEYS} keys.
 */
export function parseAuthorizedKeys(text: string, origin: string): AuthorizedKeys {
  const entries: AuthorizedKey[] = [];
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].replace(/\r$/, "").trimStart();
    if (line.trim() === "" || line.startsWith("#")) continue;
    const parsed = parseLine(line);
    if (typeof parsed === "string") {
      throw new AuthorizedKeysError(origin, index + 1, `Invalid authorized key: ${parsed}`);
    }
    entries.push(parsed);
    if (entries.length > MAX_AUTHORIZED_KEYS) {
      throw new AuthorizedKeysError(
        origin,
        0,
        `more than ${MAX_AUTHORIZED_KEYS} authorized keys (the limit)`,
      );
    }
  }
  return new AuthorizedKeys(entries);
}
