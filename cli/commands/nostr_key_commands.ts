/**
 * `tunnel generate-nostr-key` and `tunnel show-npub`: the static Nostr keys
 * nostr mode's peers sign and encrypt their signaling with.
 * @module
 */
import { Command } from "commander";
import {
  NostrKeyFileError,
  NostrSecretKey,
  readNostrKeyFile,
  writeNostrKeyFile,
} from "../../core/nostr/mod.ts";
import { UsageError } from "../usage_error.ts";

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

/** Defines `generate-nostr-key`. */
export function generateNostrKeyCommand(): Command {
  return new Command("generate-nostr-key")
    .description(
      "create a Nostr key for nostr mode (file mode 0600) and print its npub; '-' prints the nsec",
    )
    .requiredOption("-o, --output <file>", "where to write the nsec, or - for standard output")
    .option("--force", "overwrite an existing file")
    .action(async (flags: { output: string; force?: boolean }) => {
      const key = NostrSecretKey.generate();
      if (flags.output === "-") {
        // The secret alone on stdout, so it can be piped; the npub to stderr.
        console.log(key.nsec);
        console.error(key.publicKey.npub);
        return;
      }
      try {
        await writeNostrKeyFile(flags.output, key, { force: flags.force });
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) {
          throw new Error(
            `Cannot write '${flags.output}': it already exists (use --force to overwrite)`,
          );
        }
        throw new Error(`Cannot write '${flags.output}': ${(error as Error).message}`);
      }
      console.log(key.publicKey.npub);
    });
}

/** Defines `show-npub`. */
export function showNpubCommand(): Command {
  return new Command("show-npub")
    .description("print the npub of an nsec file")
    .requiredOption("--nsec-file <file>", "the nsec file")
    .action(async (flags: { nsecFile: string }) => {
      const key = await loadNostrKey(flags.nsecFile);
      console.log(key.publicKey.npub);
    });
}
