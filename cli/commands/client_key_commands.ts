/**
 * `tunnel generate-client-key` and `tunnel show-client-key`: the Ed25519 keys
 * a client proves possession of instead of presenting a token (files
 * interchangeable with tunnel-rs's `generate-auth-key`).
 * @module
 */
import { Command } from "commander";
import { authorizedKeyLine, ClientKey, clientKeyFileText } from "../../core/auth/mod.ts";
import { asUsageError } from "../usage_error.ts";
import { loadClientKey } from "../settings/client_key_files.ts";

/** The command line of `generate-client-key`. */
interface GenerateFlags {
  output?: string;
  comment?: string;
  force?: boolean;
}

/** Defines `generate-client-key`. */
export function generateClientKeyCommand(): Command {
  return new Command("generate-client-key")
    .description(
      "create a client key (file mode 0600) and print its public key line for the server's --authorized-keys file",
    )
    .option(
      "-o, --output <file>",
      "where to write the secret key (default, or -: the key file to standard output and the public line to standard error)",
    )
    .option("--comment <text>", "who or what the key is for, named in the server's log")
    .option("--force", "overwrite an existing file")
    .action(async (flags: GenerateFlags) => {
      const key = ClientKey.generate();
      const line = asUsageError(() => authorizedKeyLine(key.publicKey, flags.comment ?? ""));
      const text = clientKeyFileText(key, flags.comment ?? "");
      if (flags.output === undefined || flags.output === "-") {
        // `generate-client-key > client.key` keeps the line apart; on a terminal the
        // file's own "Public key:" header already shows it.
        await writeAll(Deno.stdout, text);
        if (!Deno.stdout.isTerminal()) console.error(line);
        return;
      }
      await writeKeyFile(flags.output, text, flags.force ?? false);
      console.log(line);
    });
}

/** Defines `show-client-key`. */
export function showClientKeyCommand(): Command {
  return new Command("show-client-key")
    .description("print the public key line of a client key file")
    .requiredOption("--secret-file <file>", "the client key file")
    .option("--comment <text>", "a comment to put after the key")
    .action(async (flags: { secretFile: string; comment?: string }) => {
      const key = await loadClientKey(flags.secretFile);
      console.log(asUsageError(() => authorizedKeyLine(key.publicKey, flags.comment ?? "")));
    });
}

/** Writes a secret key file readable by its owner alone; never overwrites unless `force`. */
async function writeKeyFile(path: string, text: string, force: boolean): Promise<void> {
  try {
    // `mode` applies only to a file being created: one overwritten is tightened first.
    if (force && Deno.build.os !== "windows") {
      await Deno.chmod(path, 0o600).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
    await Deno.writeTextFile(path, text, { createNew: !force, mode: 0o600 });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new Error(`Cannot write '${path}': it already exists (use --force to overwrite)`);
    }
    throw new Error(`Cannot write '${path}': ${(error as Error).message}`);
  }
}

async function writeAll(stream: typeof Deno.stdout, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await stream.write(bytes.subarray(written));
}
