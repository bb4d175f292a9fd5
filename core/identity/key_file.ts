/**
 * Secret key files: base64 of the 32-byte seed and a newline, mode 0600.
 * @module
 */
import { SecretKey } from "./secret_key.ts";

/**
 * Reads a key file written by {@linkcode writeSecretKeyFile}.
 * @throws {Error} naming the file when it cannot be read or holds no valid key.
 */
export async function readSecretKeyFile(path: string): Promise<SecretKey> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read secret key file '${path}': ${(error as Error).message}`);
  }
  try {
    return SecretKey.parse(text);
  } catch (error) {
    throw new Error(
      `Invalid secret key file '${path}': ${
        (error as Error).message
      } (create one with 'tunnel generate-server-key --output ${path}')`,
    );
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
