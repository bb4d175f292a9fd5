/**
 * Reading small text files a user names without ever holding more than a
 * limit: a wrong path (a log file, a device, a pipe) is refused before it is
 * read whole into memory.
 * @module
 */

/**
 * Reads `path` as UTF-8 text of at most `maxBytes` bytes. Only a regular file
 * is read: opening a FIFO no one writes to would block forever, and a device
 * is never a key or a list. The size is checked first, and the read stops past
 * the limit anyway (a file can grow while it is read).
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
  // Checked before opening, which is what blocks on a FIFO.
  const before = await io(() => Deno.stat(path));
  if (before.isDirectory) throw fail("it is a directory");
  if (!before.isFile) throw fail("not a regular file (a pipe, socket or device); name a file");
  const file = await io(() => Deno.open(path));
  try {
    const info = await io(() => file.stat());
    // Replaced between the two looks: what was opened is checked too.
    if (!info.isFile) throw fail("not a regular file (a pipe, socket or device); name a file");
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
