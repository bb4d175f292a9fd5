/**
 * Authentication tokens: `i`, 16 random characters, one check character (18 in all).
 *
 * The check character makes the whole token, read as digits of base 65 over the
 * alphabet below, satisfy  sum(v_k * 2^(17-k)) = 0 (mod 65), k = 0..17.
 * This is Damm's scheme over the quasigroup x*y = 2x + y (mod 65), which is totally
 * anti-symmetric because 2 and 2-1 are both invertible mod 65. Hence:
 * - any single changed character changes the sum by d * 2^j with 0 < |d| < 65,
 *   never 0 mod 65 since 2^j is invertible;
 * - any swap of two adjacent different characters changes it by (a - b) * 2^j,
 *   likewise never 0.
 * `.` is part of the alphabet (the 65th value) but generated tokens draw their
 * random part from the other 64, so `.` appears only as a check character, rarely.
 * @module
 */

/** The 65 characters a token may contain after its `i`. */
export const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
const MODULUS = TOKEN_ALPHABET.length; // 65
const RANDOM_ALPHABET = TOKEN_ALPHABET.slice(0, 64);
/** Total token length. */
export const TOKEN_LENGTH = 18;
const PREFIX = "i";

function checkValue(chars: string): number {
  let interim = 0;
  for (const char of chars) {
    interim = (2 * interim + TOKEN_ALPHABET.indexOf(char)) % MODULUS;
  }
  return interim;
}

/** Generates a token from the system's CSPRNG. */
export function generateToken(): string {
  // 64 divides 256, so masking a random byte keeps the draw uniform.
  const random = crypto.getRandomValues(new Uint8Array(16));
  const body = PREFIX + Array.from(random, (b) => RANDOM_ALPHABET[b & 63]).join("");
  // Solve 2 * interim + c = 0 (mod 65) for the check character c.
  const check = (MODULUS - ((2 * checkValue(body)) % MODULUS)) % MODULUS;
  return body + TOKEN_ALPHABET[check];
}

/**
 * Returns why `token` is not a well-formed token, or `undefined` when it is.
 * Well-formed says nothing about whether a server accepts it.
 */
export function tokenFormatError(token: string): string | undefined {
  if (token.length !== TOKEN_LENGTH) {
    return `expected ${TOKEN_LENGTH} characters, got ${token.length}`;
  }
  if (!token.startsWith(PREFIX)) return `must start with '${PREFIX}'`;
  for (const char of token.slice(1)) {
    if (!TOKEN_ALPHABET.includes(char)) {
      return `invalid character '${char}' (allowed: A-Z a-z 0-9 - _ .)`;
    }
  }
  if (checkValue(token) !== 0) return "checksum mismatch (mistyped or truncated?)";
  return undefined;
}

/** A token that is not one: what is wrong with it is in `problem`. */
export class TokenFormatError extends TypeError {
  /** What is wrong, e.g. "checksum mismatch (mistyped or truncated?)". */
  readonly problem: string;

  /** The error for `problem`. */
  constructor(problem: string) {
    super(`Invalid auth token: ${problem}`);
    this.problem = problem;
  }
}

/**
 * Parses a token, trimming surrounding white space.
 * @throws {TokenFormatError} naming what is wrong.
 */
export function parseToken(text: string): string {
  const token = text.trim();
  const problem = tokenFormatError(token);
  if (problem) throw new TokenFormatError(problem);
  return token;
}
