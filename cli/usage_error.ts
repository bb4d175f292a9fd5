/**
 * The CLI's two kinds of failure, told apart by exit status: a usage error
 * (exit 2) means what the user asked for is wrong and will fail the same way
 * every time; anything else (exit 1) failed while running.
 * @module
 */

/** Exit status of a command that ran and finished, or was stopped with Ctrl-C. */
export const EXIT_OK = 0;
/** Exit status of a failure while running: network, files, a refusal by the peer. */
export const EXIT_FAILURE = 1;
/**
 * Exit status of a usage error: an unknown command, mode or option, a missing
 * setting, or a malformed value (from a flag, an environment variable or a file).
 */
export const EXIT_USAGE = 2;

/**
 * A setting is missing or malformed, wherever it came from. `main` prints the
 * message and exits with {@linkcode EXIT_USAGE}.
 *
 * @example
 * ```ts
 * throw new UsageError("Missing --source (or 'request_source' in the config file)");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Runs `parse` on a value the user gave; its failure becomes a
 * {@linkcode UsageError} with the same message (and the original as `cause`).
 *
 * @example
 * ```ts
 * const list = asUsageError(() => new AllowList(flags.allowedTcp ?? []));
 * ```
 */
export function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError((error as Error).message ?? String(error), { cause: error });
  }
}
