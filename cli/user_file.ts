/**
 * Reading the small text files a user names (config, tokens, a token), never
 * more than a limit: a wrong path such as a log file or a device must not be
 * read whole into memory before it is refused.
 * @module
 */
import { readCappedTextFile } from "../core/files/mod.ts";

/**
 * Limit of a config or tokens file. A token line is 19 bytes, so 1 MiB holds
 * over 50,000 tokens; a config file is a few hundred bytes.
 */
export const MAX_LIST_FILE_BYTES = 1 << 20;
/** Limit of a file holding one token (18 characters): room for a comment and line endings. */
export const MAX_TOKEN_FILE_BYTES = 4 << 10;

/**
 * Reads `path` as UTF-8 text of at most `maxBytes` bytes (see
 * {@linkcode readCappedTextFile}).
 *
 * @param what What the file is, for the message ("tokens file").
 * @throws {Error} "Cannot read <what> '<path>': <why>", naming the limit when it is too large.
 * @example
 * ```ts
 * const text = await readUserFile("tokens.txt", "tokens file", MAX_LIST_FILE_BYTES);
 * ```
 */
export function readUserFile(path: string, what: string, maxBytes: number): Promise<string> {
  return readCappedTextFile(path, { what, maxBytes });
}
