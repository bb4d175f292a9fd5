/**
 * Reading the key files a user names (`--secret-file`, `--nsec-file`, the key
 * commands' arguments): a file that holds no valid key is the user's setting to
 * fix (a usage error); one that cannot be read is an error of its own.
 * @module
 */
import { readSecretKeyFile, type SecretKey } from "../../core/identity/mod.ts";
import { type NostrSecretKey, readNostrKeyFile } from "../../core/nostr/mod.ts";
import { UsageError } from "../usage_error.ts";

/**
 * Reads a secret key file.
 * @throws {UsageError} when it holds no valid key (the user named the wrong file).
 * @throws {Error} when it cannot be read or is too large.
 */
export async function loadSecretKey(path: string): Promise<SecretKey> {
  try {
    return await readSecretKeyFile(path);
  } catch (error) {
    // readSecretKeyFile throws TypeError for the content, Error for reading.
    if (error instanceof TypeError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/**
 * Reads an nsec file.
 * @throws {UsageError} when it holds no valid key (the user named the wrong file).
 * @throws {Error} when it cannot be read or is too large.
 */
export async function loadNostrKey(path: string): Promise<NostrSecretKey> {
  try {
    return await readNostrKeyFile(path);
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
