import assert from "node:assert/strict";
import {
  type DenoConfig,
  type Lockfile,
  type ModuleGraph,
  npmPackageOf,
  trimToGraph,
  usedNpmPackages,
} from "./image_lockfile.ts";

// A CLI importing `cli-dep` (which needs `shared` 1), beside test-only imports of
// `test-dep` and of `shared` 2: same name, another version, so it goes too.
const config: DenoConfig = {
  name: "@x/cli",
  imports: {
    "cli-dep": "npm:cli-dep@1.0.0",
    "@scope/lib/": "npm:/@scope/lib@2.0.0/",
    "test-dep": "npm:test-dep@3.0.0",
    "shared": "npm:shared@^2.0.0",
    "./local": "./local.ts",
  },
};
const lock: Lockfile = {
  version: "5",
  specifiers: {
    "npm:cli-dep@1.0.0": "1.0.0",
    "npm:@scope/lib@2.0.0": "2.0.0",
    "npm:test-dep@3.0.0": "3.0.0",
    "npm:shared@^2.0.0": "2.0.0",
    "jsr:@std/x@1": "1.0.1",
  },
  npm: {
    "cli-dep@1.0.0": { integrity: "sha512-a", dependencies: ["shared@1.0.0"] },
    "@scope/lib@2.0.0": { integrity: "sha512-b" },
    "shared@1.0.0": { integrity: "sha512-c" },
    "shared@2.0.0": { integrity: "sha512-d" },
    "test-dep@3.0.0": { integrity: "sha512-e", dependencies: ["shared@2.0.0"] },
  },
  workspace: {
    dependencies: [
      "npm:@scope/lib@2.0.0",
      "npm:cli-dep@1.0.0",
      "npm:shared@^2.0.0",
      "npm:test-dep@3.0.0",
    ],
  },
};
const graph: ModuleGraph = {
  modules: [
    { specifier: "file:///app/cli/main.ts" },
    { specifier: "npm:cli-dep@1.0.0" },
    { specifier: "npm:/@scope/lib@2.0.0/sub/path.js" },
    { specifier: "node:fs" },
  ],
  npmPackages: {
    "cli-dep@1.0.0": { dependencies: ["shared@1.0.0"] },
    "@scope/lib@2.0.0": { dependencies: [] },
    "shared@1.0.0": { dependencies: [] },
    "shared@2.0.0": { dependencies: [] },
    "test-dep@3.0.0": { dependencies: ["shared@2.0.0"] },
  },
};

Deno.test("npmPackageOf() reads plain, scoped and sub-path specifiers", () => {
  assert.deepEqual(npmPackageOf("npm:commander@15.1.0"), { name: "commander", req: "15.1.0" });
  assert.deepEqual(npmPackageOf("npm:/@noble/curves@2.4.0/ed25519.js"), {
    name: "@noble/curves",
    req: "2.4.0",
  });
  assert.deepEqual(npmPackageOf("npm:/@noble/curves@2.4.0/"), {
    name: "@noble/curves",
    req: "2.4.0",
  });
  assert.deepEqual(npmPackageOf("npm:left-pad"), { name: "left-pad", req: "" });
  assert.throws(() => npmPackageOf("jsr:@std/x@1"), TypeError);
});

Deno.test("usedNpmPackages() follows dependencies from the graph's npm modules only", () => {
  assert.deepEqual(
    [...usedNpmPackages(graph, lock)].sort(),
    ["@scope/lib@2.0.0", "cli-dep@1.0.0", "shared@1.0.0"],
  );
});

Deno.test("usedNpmPackages() rejects a graph package the lockfile does not hold", () => {
  const unlocked = { ...graph, modules: [...graph.modules, { specifier: "npm:other@1.0.0" }] };
  assert.throws(() => usedNpmPackages(unlocked, lock), /npm:other@1\.0\.0 is not locked/);
});

Deno.test("trimToGraph() drops test-only packages everywhere and keeps the rest untouched", () => {
  const out = trimToGraph(config, lock, graph);
  assert.deepEqual(out.config, {
    name: "@x/cli",
    imports: {
      "cli-dep": "npm:cli-dep@1.0.0",
      "@scope/lib/": "npm:/@scope/lib@2.0.0/",
      "./local": "./local.ts",
    },
  });
  assert.deepEqual(out.lock, {
    version: "5",
    specifiers: {
      "npm:cli-dep@1.0.0": "1.0.0",
      "npm:@scope/lib@2.0.0": "2.0.0",
      "jsr:@std/x@1": "1.0.1",
    },
    npm: {
      "cli-dep@1.0.0": { integrity: "sha512-a", dependencies: ["shared@1.0.0"] },
      "@scope/lib@2.0.0": { integrity: "sha512-b" },
      "shared@1.0.0": { integrity: "sha512-c" },
    },
    workspace: { dependencies: ["npm:@scope/lib@2.0.0", "npm:cli-dep@1.0.0"] },
  });
  // The inputs are not modified.
  assert.equal(Object.keys(lock.npm!).length, 5);
  assert.equal(Object.keys(config.imports!).length, 5);
});
