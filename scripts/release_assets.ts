/**
 * Turns a folder of compiled binaries into a release's assets: checks it holds
 * exactly the binaries of {@linkcode RELEASE_TARGETS}, copies install.sh and
 * install.ps1 in with the repository stamped into them, and writes `SHA256SUMS`
 * over all of them. The release workflow runs it after `compile_release.ts`:
 *
 * ```sh
 * deno run --allow-read --allow-write scripts/release_assets.ts dist owner/name
 * ```
 *
 * @module
 */
import {
  CHECKSUM_FILE,
  INSTALL_SCRIPTS,
  RELEASE_TARGETS,
  REPOSITORY_PLACEHOLDER,
} from "./release_targets.ts";

const REPOSITORY_ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname)
  .replace(/\/$/, "");
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/**
 * Checks that `names` are exactly the release binaries, none missing, none extra.
 *
 * @throws {Error} naming the missing and the unexpected files.
 */
export function checkBinaryNames(names: Iterable<string>): void {
  const present = new Set(names);
  const expected = new Set(RELEASE_TARGETS.map((release) => release.asset));
  const missing = [...expected].filter((name) => !present.has(name));
  const unexpected = [...present].filter((name) => !expected.has(name)).sort();
  const problems = [];
  if (missing.length > 0) problems.push(`missing ${missing.join(", ")}`);
  if (unexpected.length > 0) problems.push(`unexpected ${unexpected.join(", ")}`);
  if (problems.length > 0) {
    throw new Error(`Cannot prepare the release: ${problems.join("; ")}`);
  }
}

/** Hex SHA-256 of some bytes. */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * A checksum file as `sha256sum` writes it (text mode: hash, two spaces, name),
 * sorted by name, so `sha256sum -c SHA256SUMS` checks a download folder.
 */
export async function sha256sums(
  files: Iterable<{ name: string; bytes: Uint8Array<ArrayBuffer> }>,
): Promise<string> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let text = "";
  for (const { name, bytes } of sorted) text += `${await sha256Hex(bytes)}  ${name}\n`;
  return text;
}

/**
 * Writes `repository` (`owner/name`) where an installer holds the placeholder.
 *
 * @throws {TypeError} when `repository` is not `owner/name`.
 * @throws {Error} when the script does not hold the placeholder exactly once.
 */
export function stampRepository(script: string, repository: string): string {
  if (!REPOSITORY.test(repository)) {
    throw new TypeError(`Cannot stamp the installers: "${repository}" is not owner/name`);
  }
  const count = script.split(REPOSITORY_PLACEHOLDER).length - 1;
  if (count !== 1) {
    throw new Error(
      `Cannot stamp the installer: it holds ${REPOSITORY_PLACEHOLDER} ${count} times, not once`,
    );
  }
  return script.replace(REPOSITORY_PLACEHOLDER, repository);
}

/** Options for {@linkcode prepareReleaseAssets}. */
export interface PrepareOptions {
  /** `owner/name` of the GitHub repository the installers download from. */
  repository: string;
  /** Folder holding install.sh and install.ps1. Default: the repository root. */
  scriptsDir?: string;
}

/**
 * Checks `distDir`, adds the stamped installers and writes `SHA256SUMS` there.
 *
 * @returns the names of every asset, `SHA256SUMS` last.
 * @throws {Error} when the folder is not exactly the release binaries (nothing is written then).
 */
export async function prepareReleaseAssets(
  distDir: string,
  options: PrepareOptions,
): Promise<string[]> {
  const scriptsDir = options.scriptsDir ?? REPOSITORY_ROOT;
  const names = [];
  for await (const entry of Deno.readDir(distDir)) names.push(entry.name);
  checkBinaryNames(names);
  const stamped = INSTALL_SCRIPTS.map((name) => {
    const text = Deno.readTextFileSync(`${scriptsDir}/${name}`);
    return { name, text: stampRepository(text, options.repository) };
  });
  const files = [];
  for (const release of RELEASE_TARGETS) {
    files.push({ name: release.asset, bytes: await Deno.readFile(`${distDir}/${release.asset}`) });
  }
  for (const { name, text } of stamped) {
    const bytes = new TextEncoder().encode(text);
    await Deno.writeFile(`${distDir}/${name}`, bytes, {
      mode: name.endsWith(".sh") ? 0o755 : 0o644,
    });
    files.push({ name, bytes });
  }
  await Deno.writeTextFile(`${distDir}/${CHECKSUM_FILE}`, await sha256sums(files));
  return [...files.map((file) => file.name), CHECKSUM_FILE];
}

if (import.meta.main) {
  const [distDir, repository, ...rest] = Deno.args;
  if (repository === undefined || rest.length > 0) {
    console.error("usage: release_assets.ts DIST_DIR OWNER/NAME");
    Deno.exit(2);
  }
  try {
    for (const name of await prepareReleaseAssets(distDir, { repository })) console.log(name);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
