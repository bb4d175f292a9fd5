/**
 * Authentication tokens: `i`, 16 characters, one check character (18 in all),
 * interchangeable with tunnel-rs's.
 *
 * The check character is tunnel-rs's: the 16 body characters' codes weighted
 * 1, 2, ..., 16, summed, modulo 65, as an index into the alphabet below. So a
 * token tunnel-rs generated is accepted here and one generated here is accepted
 * by tunnel-rs. The sum catches most single mistyped characters (not those whose
 * code difference times the weight is a multiple of 65) and most swaps.
 *
 * Tokens this project generated before it matched tunnel-rs carry another check
 * character (Damm's scheme over x*y = 2x + y mod 65, which catches every single
 * change and every adjacent swap); they stay valid, so no deployed token breaks.
 * Generated bodies draw from the first 64 characters (`.` is left out).
 * @module
 */

/** The 65 characters a token may contain after its `i`. */
export const TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
const MODULUS = TOKEN_ALPHABET.length; // 65
const RANDOM_ALPHABET = TOKEN_ALPHABET.slice(0, 64);
/** Total token length. */
export const TOKEN_LENGTH = 18;
const PREFIX = "i";

/** tunnel-rs's check character for a 16-character body. */
function tunnelRsCheck(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += body.charCodeAt(i) * (i + 1);
  return TOKEN_ALPHABET[sum % MODULUS];
}

/** The check of this project's earlier tokens: 0 for a whole token that passes it. */
function legacyCheckValue(chars: string): number {
  let interim = 0;
  for (const char of chars) {
    interim = (2 * interim + TOKEN_ALPHABET.indexOf(char)) % MODULUS;
  }
  return interim;
}

/** Generates a token from the system's CSPRNG, with tunnel-rs's check character. */
export function generateToken(): string {
  // 64 divides 256, so masking a random byte keeps the draw uniform.
  const random = crypto.getRandomValues(new Uint8Array(16));
  const body = Array.from(random, (b) => RANDOM_ALPHABET[b & 63]).join("");
  return PREFIX + body + tunnelRsCheck(body);
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
  const checked = token[17] === tunnelRsCheck(token.slice(1, 17)) ||
    legacyCheckValue(token) === 0;
  if (!checked) return "checksum mismatch (mistyped or truncated?)";
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
