/**
 * `tunnel generate-server-key` and `tunnel show-server-id`, and reading the
 * key files they make.
 * @module
 */
import { Command } from "commander";
import {
  readSecretKeyFile,
  SecretKey,
  SecretKeyFileError,
  writeSecretKeyFile,
} from "../../core/identity/mod.ts";
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

/** Defines `generate-server-key`. */
export function generateServerKeyCommand(): Command {
  return new Command("generate-server-key")
    .description("create a persistent server identity (file mode 0600) and print its EndpointId")
    .requiredOption("-o, --output <file>", "where to write the secret key")
    .option("--force", "overwrite an existing file")
    .action(async (flags: { output: string; force?: boolean }) => {
      const key = SecretKey.generate();
      try {
        await writeSecretKeyFile(flags.output, key, { force: flags.force });
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) {
          throw new Error(
            `Cannot write '${flags.output}': it already exists (use --force to overwrite)`,
          );
        }
        throw new Error(`Cannot write '${flags.output}': ${(error as Error).message}`);
      }
      console.log(`EndpointId: ${key.endpointId}`);
    });
}

/** Defines `show-server-id`. */
export function showServerIdCommand(): Command {
  return new Command("show-server-id")
    .description("print the EndpointId of a secret key file")
    .requiredOption("--secret-file <file>", "the secret key file")
    .action(async (flags: { secretFile: string }) => {
      const key = await loadSecretKey(flags.secretFile);
      console.log(`EndpointId: ${key.endpointId}`);
    });
}
