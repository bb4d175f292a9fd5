/**
 * Reading the client-key files a user names: a client's secret key
 * (`--client-key`) and a server's authorized keys (`--authorized-keys`). A file
 * whose content is wrong is a usage error naming the file (and line); one that
 * cannot be read is an error of its own.
 * @module
 */
import {
  type AuthorizedKeys,
  AuthorizedKeysError,
  type ClientKey,
  ClientKeyFileError,
  parseAuthorizedKeys,
  parseClientKeyFile,
} from "../../core/auth/mod.ts";
import { UsageError } from "../usage_error.ts";
import { MAX_LIST_FILE_BYTES, MAX_TOKEN_FILE_BYTES, readUserFile } from "../user_file.ts";

/**
 * Reads an authorized-keys file (at most {@linkcode MAX_LIST_FILE_BYTES}).
 * @throws {UsageError} "FILE:LINE: Invalid authorized key: ..." for a bad line.
 * @throws {Error} when it cannot be read or is too large.
 */
export async function loadAuthorizedKeys(path: string): Promise<AuthorizedKeys> {
  const text = await readUserFile(path, "authorized keys file", MAX_LIST_FILE_BYTES);
  try {
    return parseAuthorizedKeys(text, path);
  } catch (error) {
    if (!(error instanceof AuthorizedKeysError)) throw error;
    throw new UsageError(
      error.line > 0
        ? `${error.message} (one public key per line, from 'tunnel generate-client-key')`
        : error.message,
      { cause: error },
    );
  }
}

/**
 * Reads a client's secret key file (a few lines: at most {@linkcode MAX_TOKEN_FILE_BYTES}).
 * @throws {UsageError} naming the file when it holds no valid secret key.
 * @throws {Error} when it cannot be read or is too large.
 */
export async function loadClientKey(path: string): Promise<ClientKey> {
  const text = await readUserFile(path, "client key file", MAX_TOKEN_FILE_BYTES);
  try {
    return parseClientKeyFile(text, path);
  } catch (error) {
    if (!(error instanceof ClientKeyFileError)) throw error;
    throw new UsageError(
      `${error.message} (client key files come from 'tunnel generate-client-key')`,
      { cause: error },
    );
  }
}
