/**
 * Nostr key files: the `nsec1…` and a newline, mode 0600.
 * @module
 */
import { readCappedTextFile } from "../files/mod.ts";
import { NostrSecretKey } from "./keys.ts";

/** Largest nsec file read: an nsec is 63 characters; anything much larger is the wrong file. */
export const MAX_NSEC_FILE_BYTES = 4096;

/**
 * Reads a file holding an nsec (or 64 hex digits).
 * @throws {Error} naming the file when it cannot be read or is too large.
 * @throws {TypeError} naming the file and the problem when it holds no valid key.
 */
export async function readNostrKeyFile(path: string): Promise<NostrSecretKey> {
  const text = await readCappedTextFile(path, { what: "nsec file", maxBytes: MAX_NSEC_FILE_BYTES });
  try {
    return NostrSecretKey.parse(text);
  } catch (error) {
    throw new TypeError(
      `Invalid nsec file '${path}': ${
        (error as Error).message
      } (create one with 'tunnel generate-nostr-key --output ${path}')`,
    );
  }
}

/**
 * Writes `key` to `path` as an nsec, readable only by its owner.
 * @throws {Deno.errors.AlreadyExists} when the file exists and `force` is not set.
 */
export async function writeNostrKeyFile(
  path: string,
  key: NostrSecretKey,
  options: { force?: boolean } = {},
): Promise<void> {
  if (options.force && Deno.build.os !== "windows") {
    await Deno.chmod(path, 0o600).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  await Deno.writeTextFile(path, key.nsec + "\n", { createNew: !options.force, mode: 0o600 });
}
