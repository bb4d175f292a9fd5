/**
 * Cuts deno.json's import map and deno.lock down to the npm packages the CLI loads, for
 * the container image (see cache_cli.sh).
 *
 * Why: with `nodeModulesDir: "none"`, `deno run` wants every package of the lockfile in
 * its cache before it starts, whether the program imports it or not. The repository keeps
 * what only the tests use (the iroh bindings, the manifest validators) in deno.test.json and
 * deno.test.lock, apart from deno.lock; this cut still keeps out of the image any package
 * that reaches deno.lock without the CLI importing it. Entries are only
 * removed, never changed: the integrity hashes left are the committed ones, and
 * `deno cache --frozen` still checks every download against them.
 *
 * Usage (in the app folder): `deno info --json --no-npm cli/main.ts | deno run --no-config
 * --no-lock --allow-read=deno.json,deno.lock --allow-write=deno.json,deno.lock
 * image_lockfile.ts`
 * @module
 */

/** The parts of `deno info --json` read here. */
export interface ModuleGraph {
  /** Every module; npm ones appear as `npm:` specifiers (resolved or not). */
  modules: { specifier: string }[];
  /** The lockfile's npm packages, by `name@version`, with their dependencies. */
  npmPackages: Record<string, { dependencies: string[] }>;
}

/** The parts of a version 5 deno.lock changed here; the rest is kept as it is. */
export interface Lockfile {
  version: string;
  specifiers?: Record<string, string>;
  npm?: Record<string, unknown>;
  workspace?: { dependencies?: string[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** The part of deno.json changed here. */
export interface DenoConfig {
  imports?: Record<string, string>;
  [key: string]: unknown;
}

/**
 * Splits an `npm:` specifier (`npm:commander@15.1.0`, `npm:/@noble/curves@2.4.0/x.js`)
 * into package name and version requirement (empty when it names none).
 *
 * @throws {TypeError} for a specifier that is not `npm:`.
 * @example
 * ```ts
 * npmPackageOf("npm:/@noble/curves@2.4.0/ed25519.js"); // { name: "@noble/curves", req: "2.4.0" }
 * ```
 */
export function npmPackageOf(specifier: string): { name: string; req: string } {
  if (!specifier.startsWith("npm:")) {
    throw new TypeError(`Cannot read "${specifier}": not an npm: specifier`);
  }
  const rest = specifier.slice("npm:".length).replace(/^\/+/, "");
  const parts = rest.split("/");
  const head = rest.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : parts[0];
  const at = head.indexOf("@", 1);
  return at < 0 ? { name: head, req: "" } : { name: head.slice(0, at), req: head.slice(at + 1) };
}

/** The `name@version` the lockfile resolves an `npm:` specifier to. */
function lockedPackage(specifier: string, lock: Lockfile): string {
  const { name, req } = npmPackageOf(specifier);
  return `${name}@${lock.specifiers?.[`npm:${name}@${req}`] ?? req}`;
}

/**
 * The `name@version` of every npm package the graph loads, directly or through other
 * packages, as the lockfile resolves them.
 *
 * @throws {Error} when a package of the graph is not in the lockfile.
 */
export function usedNpmPackages(graph: ModuleGraph, lock: Lockfile): Set<string> {
  const pending: string[] = [];
  for (const { specifier } of graph.modules) {
    if (!specifier.startsWith("npm:")) continue;
    const key = lockedPackage(specifier, lock);
    if (!(key in graph.npmPackages)) {
      throw new Error(`Cannot trim the lockfile: ${specifier} is not locked (run deno install)`);
    }
    pending.push(key);
  }
  const used = new Set<string>();
  for (let key = pending.pop(); key !== undefined; key = pending.pop()) {
    if (used.has(key)) continue;
    used.add(key);
    pending.push(...(graph.npmPackages[key]?.dependencies ?? []));
  }
  return used;
}

/**
 * deno.json and deno.lock without the npm packages the graph never loads: their import
 * map entries, lockfile specifiers, package entries and workspace dependencies.
 */
export function trimToGraph(
  config: DenoConfig,
  lock: Lockfile,
  graph: ModuleGraph,
): { config: DenoConfig; lock: Lockfile } {
  const used = usedNpmPackages(graph, lock);
  const keepSpecifier = (s: string) => !s.startsWith("npm:") || used.has(lockedPackage(s, lock));
  const imports = config.imports === undefined ? undefined : Object.fromEntries(
    Object.entries(config.imports).filter(([, target]) => keepSpecifier(target)),
  );
  const trimmed: Lockfile = { ...lock };
  if (lock.specifiers) {
    trimmed.specifiers = Object.fromEntries(
      Object.entries(lock.specifiers).filter(([specifier]) => keepSpecifier(specifier)),
    );
  }
  if (lock.npm) {
    trimmed.npm = Object.fromEntries(Object.entries(lock.npm).filter(([key]) => used.has(key)));
  }
  if (lock.workspace?.dependencies) {
    trimmed.workspace = {
      ...lock.workspace,
      dependencies: lock.workspace.dependencies.filter(keepSpecifier),
    };
  }
  return { config: imports === undefined ? config : { ...config, imports }, lock: trimmed };
}

if (import.meta.main) {
  const graph = JSON.parse(await new Response(Deno.stdin.readable).text()) as ModuleGraph;
  const config = JSON.parse(await Deno.readTextFile("deno.json")) as DenoConfig;
  const lock = JSON.parse(await Deno.readTextFile("deno.lock")) as Lockfile;
  const out = trimToGraph(config, lock, graph);
  await Deno.writeTextFile("deno.json", JSON.stringify(out.config, null, 2) + "\n");
  await Deno.writeTextFile("deno.lock", JSON.stringify(out.lock, null, 2) + "\n");
  const kept = Object.keys(out.lock.npm ?? {});
  console.log(`deno.lock: ${kept.length} npm package(s) kept: ${kept.join(", ")}`);
}
