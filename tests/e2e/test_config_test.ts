// The two configurations stay in step: deno.json and deno.lock name only the CLI's npm
// packages (a first `deno task demo` fetches every package of deno.lock), deno.test.json
// and deno.test.lock add what only the tests load. A package pinned in one and not the
// other, or pinned differently, would test one version and ship another.
import assert from "node:assert/strict";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

interface Config {
  imports: Record<string, string>;
  lock?: string;
}

interface Lockfile {
  specifiers: Record<string, string>;
  npm: Record<string, unknown>;
  workspace: { dependencies: string[] };
}

/** A config file's JSON, without the whole-line `//` comments deno.test.json carries. */
async function readConfig(name: string): Promise<Config> {
  const text = await Deno.readTextFile(`${ROOT}${name}`);
  return JSON.parse(text.split("\n").filter((line) => !/^\s*\/\//.test(line)).join("\n"));
}

async function readLockfile(name: string): Promise<Lockfile> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}${name}`));
}

/** `npm:/@noble/curves@2.4.0/` -> `npm:@noble/curves@2.4.0`, as a lockfile names it. */
function lockfileSpecifier(mapped: string): string {
  return mapped.replace(/^npm:\/*/, "npm:").replace(/\/$/, "");
}

/**
 * A lockfile entry with each dependency named with its version: a lockfile writes
 * `debug` while it holds one version of debug and `debug@4.4.0` once it holds two
 * (deno.test.lock does when a test-only package needs another version).
 */
function pinned(lock: Lockfile, entry: unknown): unknown {
  const { dependencies, ...rest } = entry as { dependencies?: string[] };
  if (!dependencies) return entry;
  const versioned = dependencies.map((name) => {
    if (name.lastIndexOf("@") > 0) return name;
    const versions = Object.keys(lock.npm).filter((pkg) => pkg.startsWith(`${name}@`));
    return versions.length === 1 ? versions[0] : name;
  });
  return { ...rest, dependencies: versioned };
}

const cli = await readConfig("deno.json");
const tests = await readConfig("deno.test.json");
const cliLock = await readLockfile("deno.lock");
const testsLock = await readLockfile("deno.test.lock");

Deno.test("deno.test.json maps every import of deno.json to the same package and uses deno.test.lock", () => {
  for (const [name, target] of Object.entries(cli.imports)) {
    assert.equal(tests.imports[name], target, `"${name}" in deno.test.json`);
  }
  assert.equal(tests.lock, "./deno.test.lock");
});

Deno.test("deno.lock pins the packages of deno.json's imports and nothing else", () => {
  const declared = Object.values(cli.imports).map(lockfileSpecifier).sort();
  assert.deepEqual([...cliLock.workspace.dependencies].sort(), declared);
  assert.deepEqual(Object.keys(cliLock.specifiers).sort(), declared);
  for (const [name, target] of Object.entries(tests.imports)) {
    if (name in cli.imports) continue;
    const specifier = lockfileSpecifier(target);
    assert.ok(!(specifier in cliLock.specifiers), `test-only ${specifier} is in deno.lock`);
  }
});

Deno.test("every package deno.lock pins, deno.test.lock pins identically", () => {
  for (const [specifier, version] of Object.entries(cliLock.specifiers)) {
    assert.equal(testsLock.specifiers[specifier], version, specifier);
  }
  for (const [pkg, entry] of Object.entries(cliLock.npm)) {
    assert.deepEqual(pinned(testsLock, testsLock.npm[pkg]), pinned(cliLock, entry), pkg);
  }
  const testDeclared = Object.values(tests.imports).map(lockfileSpecifier).sort();
  assert.deepEqual([...testsLock.workspace.dependencies].sort(), testDeclared);
});
