import assert from "node:assert/strict";
import {
  codeSpans,
  fencedBlocks,
  readmeSection,
  shellSteps,
  shellWords,
  tableRows,
} from "./readme_blocks.ts";

const README = `# title

## Quick start

\`\`\`sh
alias t='deno run --allow-net /path/main.ts'
# leading comment

t one --flag \\
  value   # printed: one
# and a second line
t two
\`\`\`

\`\`\`toml
x = 1
\`\`\`

## Next

| a | b |
| - | - |
| \`x\`, \`y\` | \`--f --g\` |
`;

Deno.test("readmeSection() and fencedBlocks() find a section's blocks by language", () => {
  const section = readmeSection(README, "Quick start");
  assert.ok(!section.includes("## Next"));
  assert.equal(fencedBlocks(section, "sh").length, 1);
  assert.deepEqual(fencedBlocks(section, "toml"), ["x = 1\n"]);
  assert.throws(() => readmeSection(README, "Missing"), /Cannot find the README section/);
});

Deno.test("shellSteps() joins continuations and keeps comments as promised output", () => {
  const steps = shellSteps(fencedBlocks(README, "sh")[0]);
  assert.deepEqual(steps, [
    { command: "alias t='deno run --allow-net /path/main.ts'", comments: ["leading comment"] },
    { command: "t one --flag value", comments: ["printed: one", "and a second line"] },
    { command: "t two", comments: [] },
  ]);
});

Deno.test("shellWords() splits plain and single-quoted words and refuses what it cannot", () => {
  assert.deepEqual(shellWords("alias t='deno run  x'"), ["alias", "t=deno run  x"]);
  assert.deepEqual(shellWords("  a b\tc "), ["a", "b", "c"]);
  assert.throws(() => shellWords("a 'b"), /Unterminated quote/);
  assert.throws(() => shellWords("a $HOME"), /Cannot split '\$'/);
});

Deno.test("tableRows() and codeSpans() read a table's cells", () => {
  const rows = tableRows(readmeSection(README, "Next"));
  assert.deepEqual(rows, [["`x`, `y`", "`--f --g`"]]);
  assert.deepEqual(codeSpans(rows[0][0]), ["x", "y"]);
});
