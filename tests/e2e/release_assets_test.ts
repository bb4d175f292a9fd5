// The release tooling on fake binaries: the dist check, SHA256SUMS (checked with the
// real sha256sum), the stamped installers, the compile arguments, and the release
// workflow, which must build from the one table of targets and nothing else.
import assert from "node:assert/strict";
import { runCommand } from "../harness/mod.ts";
import {
  checkBinaryNames,
  prepareReleaseAssets,
  sha256sums,
  stampRepository,
} from "../../scripts/release_assets.ts";
import {
  assetName,
  CHECKSUM_FILE,
  compileArgs,
  compilePermissionFlags,
  ENTRY_POINT,
  INSTALL_SCRIPTS,
  RELEASE_TARGETS,
  REPOSITORY_PLACEHOLDER,
} from "../../scripts/release_targets.ts";
import denoJson from "../../deno.json" with { type: "json" };

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const BINARIES = RELEASE_TARGETS.map((release) => release.asset);

async function fakeDist(names: string[] = BINARIES): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "tunnel-dist-test-" });
  for (const name of names) await Deno.writeTextFile(`${dir}/${name}`, `binary ${name}\n`);
  return dir;
}

async function list(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
}

Deno.test("the release table names tunnel-<os>-<arch>, .exe on Windows, once each", () => {
  assert.deepEqual(BINARIES, [
    "tunnel-linux-x64",
    "tunnel-linux-arm64",
    "tunnel-darwin-x64",
    "tunnel-darwin-arm64",
    "tunnel-windows-x64.exe",
  ]);
  for (const release of RELEASE_TARGETS) {
    assert.equal(release.asset, assetName(release.os, release.arch));
  }
  assert.equal(new Set(RELEASE_TARGETS.map((release) => release.target)).size, BINARIES.length);
});

Deno.test("checkBinaryNames() accepts exactly the release binaries and names what is off", () => {
  checkBinaryNames([...BINARIES].reverse());
  assert.throws(
    () => checkBinaryNames([...BINARIES.slice(1), "notes.txt", "tunnel-linux-x64.tmp"]),
    {
      message:
        "Cannot prepare the release: missing tunnel-linux-x64; unexpected notes.txt, tunnel-linux-x64.tmp",
    },
  );
  assert.throws(() => checkBinaryNames([]), /missing tunnel-linux-x64, tunnel-linux-arm64/);
});

Deno.test("sha256sums() writes what sha256sum writes, sorted by name", async () => {
  const dir = await fakeDist(["b", "a"]);
  try {
    const files = await Promise.all(
      ["b", "a"].map(async (name) => ({ name, bytes: await Deno.readFile(`${dir}/${name}`) })),
    );
    const ours = await sha256sums(files);
    const theirs = await runCommand("sha256sum", { args: ["a", "b"], cwd: dir });
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(ours, theirs.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stampRepository() fills the placeholder once, and refuses what is not owner/name", () => {
  assert.equal(stampRepository(`R="${REPOSITORY_PLACEHOLDER}"\n`, "me/tunnel"), 'R="me/tunnel"\n');
  for (const bad of ["tunnel", "a/b/c", "me/tun nel", "me/$(x)", ""]) {
    assert.throws(() => stampRepository(REPOSITORY_PLACEHOLDER, bad), TypeError, bad);
  }
  assert.throws(() => stampRepository("no placeholder", "me/tunnel"), /0 times, not once/);
  assert.throws(
    () => stampRepository(REPOSITORY_PLACEHOLDER.repeat(2), "me/tunnel"),
    /2 times, not once/,
  );
});

Deno.test("each installer holds the repository placeholder exactly once", async () => {
  for (const name of INSTALL_SCRIPTS) {
    const text = await Deno.readTextFile(`${ROOT}/${name}`);
    assert.ok(!stampRepository(text, "me/tunnel").includes(REPOSITORY_PLACEHOLDER), name);
  }
});

Deno.test("prepareReleaseAssets() adds stamped installers and a SHA256SUMS that sha256sum -c accepts", async () => {
  const dir = await fakeDist();
  try {
    const assets = await prepareReleaseAssets(dir, { repository: "me/tunnel" });
    assert.deepEqual(assets, [...BINARIES, ...INSTALL_SCRIPTS, CHECKSUM_FILE]);
    assert.deepEqual(await list(dir), [...assets].sort());
    const check = await runCommand("sha256sum", { args: ["-c", CHECKSUM_FILE], cwd: dir });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal(check.stdout.trim().split("\n").length, BINARIES.length + INSTALL_SCRIPTS.length);
    for (const name of INSTALL_SCRIPTS) {
      const text = await Deno.readTextFile(`${dir}/${name}`);
      assert.ok(!text.includes(REPOSITORY_PLACEHOLDER), name);
      assert.ok(text.includes("me/tunnel"), name);
    }
    assert.equal((await Deno.stat(`${dir}/install.sh`)).mode! & 0o777, 0o755);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release_assets.ts refuses a dist folder with a missing or extra file, writing nothing", async () => {
  const dir = await fakeDist([...BINARIES.slice(0, -1), "tunnel"]);
  try {
    const result = await runCommand(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        `${ROOT}/scripts/release_assets.ts`,
        dir,
        "me/tunnel",
      ],
      timeoutMs: 30_000,
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr.trim(),
      "Cannot prepare the release: missing tunnel-windows-x64.exe; unexpected tunnel",
    );
    assert.deepEqual(await list(dir), [...BINARIES.slice(0, -1), "tunnel"].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compileArgs() bakes in the tunnel task's permissions and names the output by the table", () => {
  const flags = compilePermissionFlags();
  assert.equal(denoJson.tasks.tunnel, `deno run ${flags.join(" ")} ${ENTRY_POINT}`);
  for (
    const flag of ["--unstable-net", "--allow-net", "--ignore-env", "--allow-sys=networkInterfaces"]
  ) {
    assert.ok(flags.includes(flag), flag);
  }
  for (const release of RELEASE_TARGETS) {
    const args = compileArgs(release, "dist");
    assert.deepEqual(args.slice(0, flags.length + 1), ["compile", ...flags]);
    assert.deepEqual(args.slice(-5), [
      "--target",
      release.target,
      "--output",
      `dist/${release.asset}`,
      ENTRY_POINT,
    ]);
  }
  assert.throws(() => compilePermissionFlags("deno run -A cli/main.ts"), /"-A" .* is not a flag/);
  assert.throws(() => compilePermissionFlags("deno test cli/"), /is not "deno run/);
});

Deno.test("the release workflow compiles from the table and publishes the stamped assets", async () => {
  const workflow = await Deno.readTextFile(`${ROOT}/.github/workflows/release.yml`);
  assert.match(workflow, /^ {4}tags: \["v\*"\]$/m);
  assert.match(workflow, /^ {10}deno-version: 2\.9\.6$/m);
  assert.match(workflow, /deno task test/);
  assert.match(workflow, /scripts\/compile_release\.ts dist$/m);
  assert.match(workflow, /scripts\/release_assets\.ts dist "\$\{\{ github\.repository \}\}"$/m);
  assert.match(workflow, /gh release create "\$TAG" dist\/\* /);
  assert.match(workflow, /case "\$TAG" in \*-\*\) prerelease="--prerelease"/);
  // No second list of targets or outputs to drift from scripts/release_targets.ts.
  assert.doesNotMatch(workflow, /--target|deno compile|tunnel-(linux|darwin|windows)/);
});
