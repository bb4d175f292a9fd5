/**
 * Reads a pasted signaling block from standard input or from a file.
 * @module
 */
import { hasCompleteBlock, MAX_BLOCK_TEXT } from "../core/signaling/mod.ts";

/** How long `--offer-file` / `--answer-file` wait for the other side to write the block. */
const FILE_WAIT_MS = 10 * 60_000;
const FILE_POLL_MS = 200;

/**
 * Returns text holding a complete `label` block: from `file` once it holds one
 * (waiting for the file to appear), otherwise from standard input up to the
 * block's END line.
 * @throws {Error} when input ends first, grows past the size limit, or the file never comes.
 */
export async function readBlock(label: string, file?: string): Promise<string> {
  return file === undefined ? await readFromStdin(label) : await readFromFile(label, file);
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
      throw new Error(`No complete ${label} block appeared in '${file}' within 10 minutes`);
    }
    await new Promise((r) => setTimeout(r, FILE_POLL_MS));
  }
}
