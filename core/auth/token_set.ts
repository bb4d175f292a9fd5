/**
 * The set of tokens a server accepts, checked in constant time.
 * @module
 */
import { parseToken, tokenFormatError } from "./token.ts";

const encoder = new TextEncoder();

/**
 * Compares a secret `expected` with `candidate` in time that depends only on the
 * length of `expected`, never on where the first difference is.
 */
export function constantTimeEqual(expected: Uint8Array, candidate: Uint8Array): boolean {
  let diff = expected.length ^ candidate.length;
  for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ (candidate[i] ?? 0);
  return diff === 0;
}

/** Tokens a server accepts. */
export class TokenSet {
  readonly #tokens: Uint8Array[];

  /**
   * Holds `tokens`, each checked for format and checksum; duplicates count once.
   * @throws {TypeError} if any token is malformed.
   */
  constructor(tokens: Iterable<string>) {
    this.#tokens = [...new Set([...tokens].map(parseToken))].map((t) => encoder.encode(t));
  }

  /** How many distinct tokens are configured. */
  get size(): number {
    return this.#tokens.length;
  }

  /**
   * Whether `candidate` is one of the tokens. Every configured token is compared
   * in full, so the time taken does not tell which one (or how much of one) matched.
   */
  has(candidate: Uint8Array): boolean {
    let found = false;
    for (const token of this.#tokens) found = constantTimeEqual(token, candidate) || found;
    return found;
  }
}

/** A tokens file with a line that holds no valid token. */
export class TokensFileError extends TypeError {
  /** The file, as named. */
  readonly file: string;
  /** The line (from 1). */
  readonly line: number;
  /** What is wrong with its token. */
  readonly problem: string;

  /** The error for line `line` of `file`. */
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: Invalid auth token: ${problem}`);
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/**
 * Parses a tokens file: one token per line, `#` starts a comment, blank lines ignored.
 * @throws {TokensFileError} naming the line of the first invalid token.
 */
export function parseTokensFile(text: string, fileName: string): string[] {
  const tokens: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const problem = tokenFormatError(line);
    if (problem) throw new TokensFileError(fileName, index + 1, problem);
    tokens.push(line);
  });
  return tokens;
}
