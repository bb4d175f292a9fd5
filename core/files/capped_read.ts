/**
 * Reading small text files a user names without ever holding more than a
 * limit: a wrong path (a log file, a device, a pipe) is refused before it is
 * read whole into memory.
 * @module
 */

/**
 * Reads `path` as UTF-8 text of at most `maxBytes` bytes. The size is checked
 * first, and the read stops past the limit (devices and pipes report no size).
 *
 * @param path The file to read.
 * @param options `what` names the file in messages ("tokens file"); `maxBytes` is the limit.
 * @throws {Error} "Cannot read <what> '<path>': <why>", naming the limit when the file is larger.
 * @example
 * ```ts
 * const text = await readCappedTextFile("tokens.txt", { what: "tokens file", maxBytes: 1 << 20 });
 * ```
 */
export async function readCappedTextFile(
  path: string,
  options: { what: string; maxBytes: number },
): Promise<string> {
  const { what, maxBytes } = options;
  const fail = (why: string) => new Error(`Cannot read ${what} '${path}': ${why}`);
  const tooLarge = () => fail(`larger than the limit of ${formatLimit(maxBytes)}`);
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
function formatLimit(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1 << 10 && bytes % (1 << 10) === 0) return `${bytes / (1 << 10)} KiB`;
  return `${bytes} bytes`;
}
