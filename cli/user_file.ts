/**
 * Reading the small text files a user names (config, tokens, a token), never
 * more than a limit: a wrong path such as a log file or a device must not be
 * read whole into memory before it is refused.
 * @module
 */

/**
 * Limit of a config or tokens file. A token line is 19 bytes, so 1 MiB holds
 * over 50,000 tokens; a config file is a few hundred bytes.
 */
export const MAX_LIST_FILE_BYTES = 1 << 20;
/** Limit of a file holding one token (18 characters): room for a comment and line endings. */
export const MAX_TOKEN_FILE_BYTES = 4 << 10;

/**
 * Reads `path` as UTF-8 text of at most `maxBytes` bytes: its size is checked
 * first, and the read stops past the limit (for files whose size is unknown).
 *
 * @param what What the file is, for the message ("tokens file").
 * @throws {Error} "Cannot read <what> '<path>': <why>", naming the limit when it is too large.
 * @example
 * ```ts
 * const text = await readUserFile("tokens.txt", "tokens file", MAX_LIST_FILE_BYTES);
 * ```
 */
export async function readUserFile(path: string, what: string, maxBytes: number): Promise<string> {
  const fail = (why: string) => new Error(`Cannot read ${what} '${path}': ${why}`);
  const tooLarge = () => fail(`larger than the limit of ${formatBytes(maxBytes)}`);
  const io = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw fail(error instanceof Deno.errors.NotFound ? "no such file" : (error as Error).message);
    }
  };
  const file = await io(() => Deno.open(path));
  try {
    const info = await io(() => file.stat());
    if (info.isDirectory) throw fail("it is a directory");
    if (info.size > maxBytes) throw tooLarge();
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    for (;;) {
      const read = await io(() => file.read(buffer.subarray(length)));
      if (read === null) break;
      length += read;
      if (length > maxBytes) throw tooLarge();
    }
    return new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    file.close();
  }
}

/** `1 MiB`, `4 KiB`, or bytes. */
function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} bytes`;
}
