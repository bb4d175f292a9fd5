/**
 * Reads a pasted signaling block from standard input or from a file.
 * @module
 */
import { hasCompleteBlock, MAX_BLOCK_TEXT } from "../core/signaling/mod.ts";
import { UsageError } from "./usage_error.ts";

/** How long `--offer-file` / `--answer-file` wait for the other side to write the block. */
export const FILE_WAIT_MS = 10 * 60_000;
const FILE_POLL_MS = 200;

/**
 * Returns text holding a complete `label` block: from `file` once it holds one
 * (waiting for the file to appear), otherwise from standard input up to the
 * block's END line.
 * @throws {Error} when input ends first, grows past the size limit, the file
 * cannot appear (see {@linkcode checkBlockFile}) or never comes.
 */
export async function readBlock(label: string, file?: string): Promise<string> {
  return file === undefined ? await readFromStdin(label) : await readFromFile(label, file);
}

/**
 * Checks that `file` can hold a block now or later: it is a regular file, or it
 * does not exist yet but its directory does (when read access to the
 * directory was granted; otherwise that part is unknown). Waiting ten minutes for a file
 * in a directory that does not exist, or reading a FIFO no one writes to,
 * would only hang.
 *
 * @param flag The option that named the file ("--offer-file"), for the message.
 * @throws {UsageError} naming the flag, the path and why it can never hold a block.
 * @example
 * ```ts
 * await checkBlockFile("/tmp/offer.txt", "--offer-file");
 * ```
 */
export async function checkBlockFile(file: string, flag: string): Promise<void> {
  const why = await whyBlockFileCannotAppear(file);
  if (why !== undefined) throw new UsageError(`Invalid ${flag} '${file}': ${why}`);
}

async function whyBlockFileCannotAppear(file: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(file);
    return info.isFile
      ? undefined
      : `not a regular file${info.isDirectory ? " (a directory)" : ""}`;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) return (error as Error).message;
  }
  const dir = parentDirectory(file);
  try {
    const info = await Deno.stat(dir);
    return info.isDirectory ? undefined : `'${dir}' is not a directory`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `its directory '${dir}' does not exist`;
    // Read access granted for the file alone: whether its directory exists cannot be known.
    if (error instanceof Deno.errors.NotCapable) return undefined;
    return (error as Error).message;
  }
}

/** The directory a path names its file in ("." for a bare name). */
function parentDirectory(file: string): string {
  const slash = file.replace(/\/+$/, "").lastIndexOf("/");
  if (slash < 0) return ".";
  return slash === 0 ? "/" : file.slice(0, slash);
}

async function readFromStdin(label: string): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of Deno.stdin.readable) {
    text += decoder.decode(chunk, { stream: true });
    if (hasCompleteBlock(text, label)) return text;
    if (text.length > MAX_BLOCK_TEXT) {
      throw new Error(
        `Standard input sent more than ${MAX_BLOCK_TEXT} characters without a complete ${label} block`,
      );
    }
  }
  throw new Error(
    `Standard input ended before a complete ${label} block (paste the whole block, BEGIN to END)`,
  );
}

async function readFromFile(label: string, file: string): Promise<string> {
  const deadline = Date.now() + FILE_WAIT_MS;
  for (;;) {
    // Checked on every poll: the directory can go away, or a FIFO replace the file.
    const why = await whyBlockFileCannotAppear(file);
    if (why !== undefined) throw new Error(`Cannot read '${file}': ${why}`);
    try {
      const text = await Deno.readTextFile(file);
      if (hasCompleteBlock(text, label)) return text;
      if (text.length > MAX_BLOCK_TEXT) {
        throw new Error(`'${file}' is too large to hold a ${label} block`);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot read '${file}': ${(error as Error).message}`);
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `No complete ${label} block appeared in '${file}' within ${FILE_WAIT_MS / 60_000} minutes`,
      );
    }
    await new Promise((r) => setTimeout(r, FILE_POLL_MS));
  }
}
