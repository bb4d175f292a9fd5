/**
 * Compiles every release binary into a folder, one `deno compile` per target of
 * {@linkcode RELEASE_TARGETS}. The release workflow runs it from the repository root:
 *
 * ```sh
 * deno run --allow-run --allow-read scripts/compile_release.ts dist
 * ```
 *
 * @module
 */
import { compileArgs, RELEASE_TARGETS } from "./release_targets.ts";

if (import.meta.main) {
  const [distDir, ...rest] = Deno.args;
  if (distDir === undefined || rest.length > 0) {
    console.error("usage: compile_release.ts DIST_DIR");
    Deno.exit(2);
  }
  for (const release of RELEASE_TARGETS) {
    const args = compileArgs(release, distDir);
    console.log(`deno ${args.join(" ")}`);
    const { code } = await new Deno.Command(Deno.execPath(), { args }).spawn().status;
    if (code !== 0) {
      console.error(`Cannot compile ${release.asset}: deno compile exited ${code}`);
      Deno.exit(1);
    }
  }
}
