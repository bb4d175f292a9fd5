/**
 * `tunnel generate-token [-c N]`: prints fresh authentication tokens.
 * @module
 */
import { Command, Option } from "commander";
import { generateToken } from "../../core/auth/mod.ts";
import { positiveInteger } from "../options.ts";
import { UsageError } from "../usage_error.ts";

/** At most this many tokens at once: a typo like `-c 10000000` should not flood a terminal. */
const MAX_COUNT = 10_000;

/** Defines the command. */
export function generateTokenCommand(): Command {
  return new Command("generate-token")
    .description("print new authentication tokens (i + 16 random characters + checksum)")
    .addOption(
      new Option("-c, --count <n>", "how many tokens").argParser(positiveInteger("--count"))
        .default(1),
    )
    .action((flags: { count: number }) => {
      if (flags.count > MAX_COUNT) {
        throw new UsageError(`Invalid --count ${flags.count}: at most ${MAX_COUNT}`);
      }
      for (let i = 0; i < flags.count; i++) console.log(generateToken());
    });
}
