/**
 * Reads what a README shows a user: a section's fenced code blocks, the
 * commands of a shell block with the output its comments promise, a table's
 * cells. The README tests run what this finds, so a README that changes
 * without its test breaks the test.
 * @module
 */

/** One command of a shell block and the comments that follow it. */
export interface ShellStep {
  /** The command, continuation lines joined, without its trailing comment. */
  command: string;
  /** Its trailing comment, then each comment line up to the next command (`#` removed). */
  comments: string[];
}

/**
 * The text under a `## ` heading that starts with `title`, up to the next
 * `## ` heading.
 * @throws {Error} when there is no such heading.
 */
export function readmeSection(markdown: string, title: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`## ${title}`));
  if (start < 0) throw new Error(`Cannot find the README section '## ${title}'`);
  const end = lines.findIndex((line, i) => i > start && line.startsWith("## "));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** The contents of the fenced blocks of `language` in `text`, in order. */
export function fencedBlocks(text: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp("^```" + language + "\\n([\\s\\S]*?)^```$", "gm");
  for (const match of text.matchAll(fence)) blocks.push(match[1]);
  return blocks;
}

/**
 * The commands of a shell block: `\` continuations joined, comments kept as
 * the output the README promises. Comment lines before the first command are
 * dropped; a blank line ends a command's comments.
 */
export function shellSteps(block: string): ShellStep[] {
  const steps: ShellStep[] = [];
  let current: ShellStep | undefined;
  let pending = "";
  for (const raw of block.split("\n")) {
    const line = raw.trimEnd();
    if (pending !== "") {
      pending += " " + line.trim();
    } else if (line.trim() === "") {
      current = undefined;
      continue;
    } else if (line.trimStart().startsWith("#")) {
      current?.comments.push(line.trimStart().replace(/^#\s?/, ""));
      continue;
    } else {
      pending = line;
    }
    if (pending.endsWith("\\")) {
      pending = pending.slice(0, -1).trimEnd();
      continue;
    }
    const comment = quoteFree(pending) ? /^(.*?\S)\s+#\s(.*)$/.exec(pending) : null;
    current = comment
      ? { command: comment[1], comments: [comment[2].trim()] }
      : { command: pending, comments: [] };
    steps.push(current);
    pending = "";
  }
  return steps;
}

function quoteFree(text: string): boolean {
  return !text.includes("'") && !text.includes('"');
}

/**
 * Splits a command into words as a POSIX shell does for plain words and
 * single-quoted strings (all the README uses).
 * @throws {Error} for an unterminated quote or a character it does not handle.
 */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const char = command[i];
    if (char === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`Unterminated quote in: ${command}`);
      word = (word ?? "") + command.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (/["$`\\;&|<>()*?]/.test(char)) {
      throw new Error(`Cannot split '${char}' like a shell would, in: ${command}`);
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The cells of each body row of the first Markdown table in `text`, trimmed. */
export function tableRows(text: string): string[][] {
  const rows = text.split("\n").filter((line) => line.startsWith("|"));
  return rows.slice(2).map((row) => row.split("|").slice(1, -1).map((cell) => cell.trim()));
}

/** The contents of each `code span` in `text`. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
}
