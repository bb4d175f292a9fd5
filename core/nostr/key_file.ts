/**
 * Nostr key files: the `nsec1…` and a newline, mode 0600.
 * @module
 */
import { readCappedTextFile } from "../files/mod.ts";
import { NostrSecretKey } from "./keys.ts";

/** Largest nsec file read: an nsec is 63 characters; anything much larger is the wrong file. */
export const MAX_NSEC_FILE_BYTES = 4096;

/** An nsec file that holds no valid key: which file, and what is wrong with its content. */
export class NostrKeyFileError extends TypeError {
  /** Always "NostrKeyFileError". */
  override name = "NostrKeyFileError";
  /** The file as named. */
  readonly path: string;
  /** What is wrong with its content. */
  readonly problem: string;

  /**
   * Builds the error.
   * @param path the file as named
   * @param problem what is wrong with its content
   */
  constructor(path: string, problem: string) {
    super(`Invalid nsec file '${path}': ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Reads a file holding an nsec (or 64 hex digits).
 * @throws {Error} naming the file when it cannot be read or is too large.
 * @throws {NostrKeyFileError} naming the file and the problem when it holds no valid key.
 */
export async function readNostrKeyFile(path: string): Promise<NostrSecretKey> {
  const text = await readCappedTextFile(path, { what: "nsec file", maxBytes: MAX_NSEC_FILE_BYTES });
  try {
    return NostrSecretKey.parse(text);
  } catch (error) {
    throw new NostrKeyFileError(path, (error as Error).message);
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
