/**
 * The one list of release binaries: which `deno compile` targets a release builds
 * and the asset name each gets. The release workflow compiles from it
 * (`compile_release.ts`), `release_assets.ts` checks a dist folder against it, and
 * the tests check that install.sh and install.ps1 map platforms to these names.
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** An operating system a release has binaries for, as the asset names spell it. */
export type ReleaseOs = "linux" | "darwin" | "windows";
/** A CPU architecture a release has binaries for, as the asset names spell it. */
export type ReleaseArch = "x64" | "arm64";

/** One binary of a release. */
export interface ReleaseTarget {
  /** The `deno compile --target` triple. */
  target: string;
  os: ReleaseOs;
  arch: ReleaseArch;
  /** The file name in the release: `tunnel-<os>-<arch>`, `.exe` on Windows. */
  asset: string;
}

/** Builds the asset name for a platform: `tunnel-linux-x64`, `tunnel-windows-x64.exe`. */
export function assetName(os: ReleaseOs, arch: ReleaseArch): string {
  return `tunnel-${os}-${arch}${os === "windows" ? ".exe" : ""}`;
}

function target(triple: string, os: ReleaseOs, arch: ReleaseArch): ReleaseTarget {
  return { target: triple, os, arch, asset: assetName(os, arch) };
}

/**
 * Every binary a release carries. Deno 2.9 cannot compile for Windows on arm64,
 * so install.ps1 gives arm64 Windows the x64 binary (Windows 11 emulates x64).
 */
export const RELEASE_TARGETS: readonly ReleaseTarget[] = [
  target("x86_64-unknown-linux-gnu", "linux", "x64"),
  target("aarch64-unknown-linux-gnu", "linux", "arm64"),
  target("x86_64-apple-darwin", "darwin", "x64"),
  target("aarch64-apple-darwin", "darwin", "arm64"),
  target("x86_64-pc-windows-msvc", "windows", "x64"),
];

/** The checksum file of a release, in `sha256sum` format. */
export const CHECKSUM_FILE = "SHA256SUMS";

/** The installers a release carries, stamped with the repository. */
export const INSTALL_SCRIPTS: readonly string[] = ["install.sh", "install.ps1"];

/** What the installers hold until the release workflow stamps them with `owner/name`. */
export const REPOSITORY_PLACEHOLDER = "__TUNNEL_REPOSITORY__";

/** The program every binary is compiled from, relative to the repository root. */
export const ENTRY_POINT = "cli/main.ts";

/**
 * The permission flags baked into every binary: those of deno.json's `tunnel` task,
 * which grants the union of docs/CLI.md's permission table, so a compiled `tunnel`
 * may do exactly what `deno task tunnel` may.
 *
 * @throws {Error} when the task no longer has the shape `deno run <flags> cli/main.ts`.
 */
export function compilePermissionFlags(task: string = denoJson.tasks.tunnel): string[] {
  const words = task.trim().split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== ENTRY_POINT) {
    throw new Error(
      `Cannot read permission flags: the tunnel task is not "deno run … ${ENTRY_POINT}"`,
    );
  }
  const flags = words.slice(2, -1);
  const notFlag = flags.find((flag) => !flag.startsWith("--"));
  if (notFlag !== undefined) {
    throw new Error(`Cannot read permission flags: "${notFlag}" in the tunnel task is not a flag`);
  }
  return flags;
}

/**
 * The `deno` arguments that compile one target into `distDir`.
 *
 * @example
 * ```ts
 * const args = compileArgs(RELEASE_TARGETS[0], "dist");
 * // ["compile", "--unstable-net", …, "--target", "x86_64-unknown-linux-gnu",
 * //  "--output", "dist/tunnel-linux-x64", "cli/main.ts"]
 * ```
 */
export function compileArgs(release: ReleaseTarget, distDir: string): string[] {
  return [
    "compile",
    ...compilePermissionFlags(),
    // The lockfile also holds packages only tests load (a Linux-only native iroh
    // binding, a PowerShell parser); embed just what cli/main.ts reaches.
    "--exclude-unused-npm",
    // Build from exactly the versions deno.lock pins.
    "--frozen-lockfile",
    "--target",
    release.target,
    "--output",
    `${distDir}/${release.asset}`,
    ENTRY_POINT,
  ];
}
