// No PowerShell runs here, so install.ps1 is at least parsed: tree-sitter's
// PowerShell grammar (WebAssembly, from npm) must find no syntax error in it.
// It catches unbalanced braces, quotes and parentheses, not wrong cmdlets or logic.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Language, Parser } from "web-tree-sitter";
// Puts the grammar package in the module graph, so require.resolve finds its .wasm.
import "tree-sitter-powershell/package.json" with { type: "json" };

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");

async function powershellParser(): Promise<Parser> {
  await Parser.init();
  const wasm = createRequire(import.meta.url).resolve(
    "tree-sitter-powershell/tree-sitter-powershell.wasm",
  );
  const parser = new Parser();
  parser.setLanguage(await Language.load(wasm));
  return parser;
}

/** Where the parser found errors or had to invent a missing token, as "line:column text". */
function syntaxErrors(parser: Parser, source: string): string[] {
  const tree = parser.parse(source);
  assert.ok(tree);
  const errors: string[] = [];
  const cursor = tree.walk();
  const visit = (): void => {
    const node = cursor.currentNode;
    if (node.type === "ERROR" || node.isMissing) {
      const { row, column } = node.startPosition;
      errors.push(
        `${row + 1}:${column + 1} ${node.isMissing ? "missing " : ""}${node.text.slice(0, 60)}`,
      );
    }
    if (cursor.gotoFirstChild()) {
      do visit(); while (cursor.gotoNextSibling());
      cursor.gotoParent();
    }
  };
  visit();
  return errors;
}

Deno.test("install.ps1 parses as PowerShell without a syntax error", async () => {
  const parser = await powershellParser();
  try {
    // The check itself works: a broken script is caught.
    assert.notDeepEqual(syntaxErrors(parser, "function f { if ($x { }\n"), []);
    const script = await Deno.readTextFile(`${ROOT}/install.ps1`);
    assert.deepEqual(syntaxErrors(parser, script), []);
  } finally {
    parser.delete();
  }
});
