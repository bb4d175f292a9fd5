/**
 * Secret key files: base64 of the 32-byte seed and a newline, mode 0600.
 * @module
 */
import { readCappedTextFile } from "../files/mod.ts";
import { SecretKey } from "./secret_key.ts";

/**
 * Largest key file read: a key file is 45 bytes (44 of base64 and a newline),
 * so anything much larger is the wrong file, refused before it is read whole.
 */
export const MAX_KEY_FILE_BYTES = 4096;

/** A secret key file that holds no valid key: which file, and what is wrong with its content. */
export class SecretKeyFileError extends TypeError {
  /** Always "SecretKeyFileError". */
  override name = "SecretKeyFileError";
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
    super(`Invalid secret key file '${path}': ${problem}`);
    this.path = path;
    this.problem = problem;
  }
}

/**
 * Reads a key file written by {@linkcode writeSecretKeyFile}.
 * @throws {Error} naming the file when it cannot be read or is larger than
 * {@linkcode MAX_KEY_FILE_BYTES}.
 * @throws {SecretKeyFileError} naming the file when it holds no valid key.
 */
export async function readSecretKeyFile(path: string): Promise<SecretKey> {
  const text = await readCappedTextFile(path, {
    what: "secret key file",
    maxBytes: MAX_KEY_FILE_BYTES,
  });
  try {
    return SecretKey.parse(text);
  } catch (error) {
    throw new SecretKeyFileError(path, (error as Error).message);
  }
}

/**
 * Writes `key` to `path`, readable only by its owner.
 * @throws {Deno.errors.AlreadyExists} when the file exists and `force` is not set.
 */
export async function writeSecretKeyFile(
  path: string,
  key: SecretKey,
  options: { force?: boolean } = {},
): Promise<void> {
  const data = new TextEncoder().encode(key.toBase64() + "\n");
  // createNew makes the no-overwrite check atomic. `mode` applies only when the
  // file is created, so a file being overwritten is tightened first.
  if (options.force && Deno.build.os !== "windows") {
    await Deno.chmod(path, 0o600).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  await Deno.writeFile(path, data, { createNew: !options.force, mode: 0o600 });
}
