/**
 * Client authentication: token format, generation, and constant-time checks.
 *
 * ```ts
 * import { generateToken, TokenSet } from "./mod.ts";
 * const token = generateToken();
 * const accepted = new TokenSet([token]);
 * accepted.has(new TextEncoder().encode(token)); // true
 * ```
 * @module
 */
export {
  generateToken,
  parseToken,
  TOKEN_ALPHABET,
  TOKEN_LENGTH,
  TokenFormatError,
  tokenFormatError,
} from "./token.ts";
export { constantTimeEqual, parseTokensFile, TokenSet, TokensFileError } from "./token_set.ts";
export { BearerTokenSet } from "./bearer_tokens.ts";
