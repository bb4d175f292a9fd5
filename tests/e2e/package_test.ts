// The JSR package @tunnel/cli: `deno publish --dry-run` (which works offline) must pass
// and ship exactly what `deno run jsr:@tunnel/cli` loads: every module reachable from
// cli/main.ts, the README and deno.json, and nothing else (no tests, fixtures, benches).
import assert from "node:assert/strict";
import { runCommand } from "../harness/mod.ts";
import denoJson from "../../deno.json" with { type: "json" };

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const ENTRY = denoJson.exports;
/** Files shipped besides the module graph: the package page and the config JSR reads. */
const PAGE_FILES = ["README.md", "deno.json"];

async function deno(args: string[]): Promise<string> {
  const result = await runCommand(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    timeoutMs: 120_000,
  });
  assert.equal(result.code, 0, `deno ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout + result.stderr;
}

/** Repository-relative paths of the local modules `entry` loads, itself included. */
async function localModuleGraph(entry: string): Promise<string[]> {
  const info = JSON.parse(await deno(["info", "--json", entry])) as {
    modules: { specifier: string }[];
  };
  const rootUrl = new URL(`file://${ROOT}`).href;
  return info.modules.map((m) => m.specifier).filter((s) => s.startsWith(rootUrl))
    .map((s) => decodeURIComponent(s.slice(rootUrl.length))).sort();
}

/** Repository-relative paths `deno publish --dry-run` says it would upload. */
async function publishedFiles(): Promise<string[]> {
  const output = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assert.match(output, /Dry run complete/);
  const rootUrl = new URL(`file://${ROOT}`).href;
  return output.split("\n").map((line) => /^\s+(file:\/\/\S+) \(/.exec(line)?.[1])
    .filter((url): url is string => url !== undefined && url.startsWith(rootUrl))
    .map((url) => decodeURIComponent(url.slice(rootUrl.length))).sort();
}

Deno.test("deno publish --dry-run ships exactly cli/main.ts's module graph, README.md and deno.json", async () => {
  const [graph, published] = await Promise.all([localModuleGraph(ENTRY), publishedFiles()]);
  assert.ok(graph.includes("cli/main.ts") && graph.length > 50, `graph: ${graph.join(", ")}`);
  const missing = graph.filter((file) => !published.includes(file));
  assert.deepEqual(missing, [], "modules cli/main.ts loads that the package would lack");
  const expected = new Set([...graph, ...PAGE_FILES]);
  const extra = published.filter((file) => !expected.has(file));
  assert.deepEqual(
    extra,
    [],
    "files the package would ship that cli/main.ts never loads: add them to publish.exclude",
  );
  for (const file of published) {
    assert.ok(!/^(tests|bench|docs|container-deploy)\//.test(file), file);
    assert.ok(!file.endsWith("_test.ts"), file);
  }
});

Deno.test("the package names its entry point, version and license, and cli/main.ts passes deno doc --lint", async () => {
  assert.equal(denoJson.name, "@tunnel/cli");
  assert.match(denoJson.version, /^\d+\.\d+\.\d+$/);
  assert.equal(ENTRY, "./cli/main.ts");
  assert.equal(typeof denoJson.license, "string");
  await deno(["doc", "--lint", ENTRY]);
});
