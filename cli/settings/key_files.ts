/**
 * Reading the key files a user names (`--secret-file`, `--nsec-file`, the key
 * commands' arguments): a file that holds no valid key is the user's setting to
 * fix (a usage error); one that cannot be read is an error of its own.
 * @module
 */
import { readSecretKeyFile, type SecretKey, SecretKeyFileError } from "../../core/identity/mod.ts";
import { NostrKeyFileError, type NostrSecretKey, readNostrKeyFile } from "../../core/nostr/mod.ts";
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
    // The content is wrong (the user named the wrong file); anything else failed reading.
    if (error instanceof SecretKeyFileError) {
      throw new UsageError(
        `${error.message} (create one with 'tunnel generate-server-key --output ${error.path}')`,
        { cause: error },
      );
    }
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
    if (error instanceof NostrKeyFileError) {
      throw new UsageError(
        `${error.message} (create one with 'tunnel generate-nostr-key --output ${error.path}')`,
        { cause: error },
      );
    }
    throw error;
  }
}
