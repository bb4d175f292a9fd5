// install.sh run for real (bash, and dash as sh) against a fake releases API and
// fake binaries on loopback. The platform comes from a fake `uname` (and `sysctl`)
// put first on PATH, so the script's own detection is what is tested; curl or wget
// are taken away by a PATH that lacks them.
import assert from "node:assert/strict";
import { runCommand } from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";
import {
  FAKE_RELEASES,
  fakeBinaryOutput,
  LATEST_STABLE,
  startFakeReleaseServer,
} from "./_fake_releases.ts";
import { stampRepository } from "../../scripts/release_assets.ts";
import { RELEASE_TARGETS } from "../../scripts/release_targets.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const INSTALL_SH = `${ROOT}/install.sh`;
const SHELLS = ["bash", "sh"];

interface Sandbox extends AsyncDisposable {
  dir: string;
  /** Where --prefix points; not created. */
  prefix: string;
  /** TMPDIR of the installer, to see that it cleans up. */
  tmp: string;
  /** Holds the fake uname and sysctl. */
  fakeBin: string;
}

async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "tunnel-install-test-" });
  const fakeBin = `${dir}/fake-bin`;
  await Deno.mkdir(fakeBin);
  await Deno.mkdir(`${dir}/tmp`);
  await Deno.writeTextFile(
    `${fakeBin}/uname`,
    '#!/bin/sh\ncase "$1" in -m) echo "$FAKE_UNAME_M" ;; *) echo "$FAKE_UNAME_S" ;; esac\n',
    { mode: 0o755 },
  );
  await Deno.writeTextFile(
    `${fakeBin}/sysctl`,
    '#!/bin/sh\n[ -n "${FAKE_TRANSLATED:-}" ] || exit 1\necho "$FAKE_TRANSLATED"\n',
    { mode: 0o755 },
  );
  return {
    dir,
    prefix: `${dir}/bin`,
    tmp: `${dir}/tmp`,
    fakeBin,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A PATH of the system's programs minus some, for running without curl or wget. */
async function pathWithout(dir: string, missing: string[]): Promise<string> {
  const bin = `${dir}/path-without-${missing.join("-")}`;
  await Deno.mkdir(bin);
  for (const system of ["/usr/bin", "/bin"]) {
    for await (const entry of Deno.readDir(system)) {
      if (missing.includes(entry.name)) continue;
      try {
        await Deno.symlink(`${system}/${entry.name}`, `${bin}/${entry.name}`);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
    }
  }
  return bin;
}

interface InstallRun {
  shell?: string;
  args?: string[];
  uname?: [string, string];
  env?: Record<string, string>;
  /** Replaces the system part of PATH (the fake uname stays first). */
  systemPath?: string;
  /** The script to run; default install.sh. */
  script?: string;
}

async function install(
  box: Sandbox,
  server: { api: string; downloads: string },
  run: InstallRun = {},
) {
  const [kernel, machine] = run.uname ?? ["Linux", "x86_64"];
  const shellPath = (run.shell ?? "bash") === "bash" ? "/bin/bash" : "/bin/sh";
  return await runCommand(shellPath, {
    args: [run.script ?? INSTALL_SH, ...(run.args ?? ["--prefix", box.prefix])],
    cwd: box.dir,
    env: {
      PATH: `${box.fakeBin}:${run.systemPath ?? Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
      TMPDIR: box.tmp,
      HOME: box.dir,
      SHELL: "/bin/bash",
      FAKE_UNAME_S: kernel,
      FAKE_UNAME_M: machine,
      TUNNEL_REPO: "example/tunnel",
      TUNNEL_RELEASES_API: server.api,
      TUNNEL_DOWNLOAD_BASE: server.downloads,
      // Loopback only, whatever proxy the machine has.
      no_proxy: "127.0.0.1",
      NO_PROXY: "127.0.0.1",
      ...run.env,
    },
    timeoutMs: 10_000,
  });
}

async function entries(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((entry) => entry.name).sort();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function runInstalled(path: string): Promise<string> {
  const { code, stdout, stderr } = await runCommand(path, { timeoutMs: 5_000 });
  assert.equal(code, 0, stderr);
  return stdout.trim();
}

function oneLine(text: string): string {
  const lines = text.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${text}`);
  return lines[0];
}

for (const shell of SHELLS) {
  Deno.test(`install.sh (${shell}) installs the latest stable release, checked, executable`, async () => {
    await using box = await sandbox();
    await using server = startFakeReleaseServer();
    const result = await install(box, server, { shell });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const target = `${box.prefix}/tunnel`;
    assert.match(
      result.stdout,
      new RegExp(
        `^tunnel-install: installed tunnel ${LATEST_STABLE} \\(linux-x64\\) to ${target} `,
        "m",
      ),
    );
    assert.equal((await Deno.stat(target)).mode! & 0o777, 0o755);
    assert.equal(await runInstalled(target), fakeBinaryOutput(LATEST_STABLE, "tunnel-linux-x64"));
    assert.deepEqual(await entries(box.prefix), ["tunnel"], "nothing staged is left behind");
    assert.deepEqual(await entries(box.tmp), [], "the temporary folder is removed");
    // Not on PATH: the exact line to add it.
    assert.ok(
      result.stdout.includes(`  echo 'export PATH="${box.prefix}:$PATH"' >> ${box.dir}/.bashrc\n`),
      result.stdout,
    );
    assert.deepEqual(server.requests, [
      "/api/releases/latest",
      `/download/${LATEST_STABLE}/tunnel-linux-x64`,
      `/download/${LATEST_STABLE}/SHA256SUMS`,
    ]);
  });
}

Deno.test("install.sh replaces an installed tunnel, and says nothing of PATH when the folder is on it", async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const first = await install(box, server, { args: ["v0.1.0", `--prefix=${box.prefix}`] });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(
    await runInstalled(`${box.prefix}/tunnel`),
    fakeBinaryOutput("v0.1.0", "tunnel-linux-x64"),
  );
  const again = await install(box, server, {
    systemPath: `${box.prefix}:${Deno.env.get("PATH")}`,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    await runInstalled(`${box.prefix}/tunnel`),
    fakeBinaryOutput(LATEST_STABLE, "tunnel-linux-x64"),
  );
  assert.doesNotMatch(again.stdout, /PATH/);
});

for (const shell of SHELLS) {
  Deno.test(`install.sh (${shell}) refuses a checksum mismatch and installs nothing`, async () => {
    await using box = await sandbox();
    await using server = startFakeReleaseServer();
    const corrupt = FAKE_RELEASES.find((release) => release.corrupt === "tunnel-linux-x64")!;
    const result = await install(box, server, {
      shell,
      args: [corrupt.tag, "--prefix", box.prefix],
    });
    assert.equal(result.code, 1);
    assert.match(
      oneLine(result.stderr),
      /^tunnel-install: checksum mismatch for tunnel-linux-x64: SHA256SUMS says 0{64}, the download is [0-9a-f]{64}; nothing installed$/,
    );
    assert.deepEqual(await entries(box.prefix), []);
    assert.deepEqual(await entries(box.tmp), []);
  });
}

Deno.test("install.sh refuses a platform without a binary, before any download", async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const supported = "linux-x64, linux-arm64, darwin-x64, darwin-arm64";
  for (
    const [kernel, machine] of [
      ["FreeBSD", "amd64"],
      ["Linux", "riscv64"],
      ["Linux", "armv7l"],
      ["Darwin", "i386"],
      ["MINGW64_NT-10.0-19045", "x86_64"],
    ]
  ) {
    const result = await install(box, server, { uname: [kernel, machine] });
    assert.equal(result.code, 1, `${kernel} ${machine}`);
    assert.equal(
      oneLine(result.stderr),
      `tunnel-install: unsupported platform ${kernel}/${machine}: install.sh supports ${supported} (Windows: install.ps1)`,
    );
  }
  assert.deepEqual(server.requests, []);
  assert.deepEqual(await entries(box.prefix), []);
});

/** The asset a dry run would download, from its output. */
function wouldDownload(stdout: string): string {
  const url = /^tunnel-install: would download (\S+)$/m.exec(stdout)?.[1];
  assert.ok(url, stdout);
  return url;
}

Deno.test("install.sh maps each platform to the binary name the release table gives it", async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const unames: Record<string, [string, string][]> = {
    "linux-x64": [["Linux", "x86_64"], ["Linux", "amd64"]],
    "linux-arm64": [["Linux", "aarch64"], ["Linux", "arm64"]],
    "darwin-x64": [["Darwin", "x86_64"]],
    "darwin-arm64": [["Darwin", "arm64"]],
  };
  const unix = RELEASE_TARGETS.filter((release) => release.os !== "windows");
  assert.deepEqual(Object.keys(unames).sort(), unix.map((r) => `${r.os}-${r.arch}`).sort());
  for (const release of unix) {
    for (const uname of unames[`${release.os}-${release.arch}`]) {
      const result = await install(box, server, { uname, args: ["--dry-run"] });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(
        wouldDownload(result.stdout),
        `${server.downloads}/${LATEST_STABLE}/${release.asset}`,
      );
    }
  }
  // The refusal's list of what it supports is the table's too.
  const refused = await install(box, server, { uname: ["Plan9", "mips"] });
  const list = /supports (.*) \(Windows/.exec(refused.stderr)?.[1];
  assert.deepEqual(list?.split(", ").sort(), unix.map((r) => `${r.os}-${r.arch}`).sort());
  // A shell under Rosetta on an Apple silicon Mac gets the native binary.
  const rosetta = await install(box, server, {
    uname: ["Darwin", "x86_64"],
    args: ["--dry-run"],
    env: { FAKE_TRANSLATED: "1" },
  });
  assert.match(wouldDownload(rosetta.stdout), /\/tunnel-darwin-arm64$/);
  // install.ps1 names the Windows binaries of the table and no others.
  const ps1 = await Deno.readTextFile(`${ROOT}/install.ps1`);
  const named = new Set(ps1.match(/tunnel-[a-z0-9-]+\.exe/g));
  const windows = RELEASE_TARGETS.filter((release) => release.os === "windows").map((r) => r.asset);
  assert.deepEqual([...named].sort(), windows.sort());
});

Deno.test("install.sh --dry-run says what it would download and where, and touches nothing", async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const result = await install(box, server, { args: ["--dry-run", "--prefix", box.prefix] });
  assert.equal(result.code, 0, result.stderr);
  const base = `${server.downloads}/${LATEST_STABLE}`;
  assert.equal(
    result.stdout,
    [
      "tunnel-install: dry run: nothing is downloaded or changed",
      `tunnel-install: would download ${base}/tunnel-linux-x64`,
      `tunnel-install: would check it against ${base}/SHA256SUMS`,
      `tunnel-install: would install tunnel ${LATEST_STABLE} (linux-x64) to ${box.prefix}/tunnel`,
      "",
    ].join("\n"),
  );
  assert.deepEqual(server.requests, ["/api/releases/latest"], "only the API is asked");
  assert.deepEqual(await entries(box.prefix), []);
  assert.deepEqual(await entries(box.tmp), []);
  // The default folder, from HOME.
  const defaults = await install(box, server, { args: ["--dry-run"] });
  assert.match(defaults.stdout, new RegExp(`to ${box.dir}/\\.local/bin/tunnel$`, "m"));
  assert.deepEqual(await entries(`${box.dir}/.local`), []);
});

Deno.test("install.sh --prerelease takes the newest prerelease, a tag pins that release", async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const pre = await install(box, server, { args: ["--prerelease", "--dry-run"] });
  assert.equal(pre.code, 0, pre.stderr);
  const newestPre = "v0.2.0-rc.2";
  assert.equal(FAKE_RELEASES.find((release) => release.prerelease)?.tag, newestPre);
  assert.equal(wouldDownload(pre.stdout), `${server.downloads}/${newestPre}/tunnel-linux-x64`);
  assert.equal(server.requests.at(-1), "/api/releases?per_page=100");

  const pinned = await install(box, server, { args: ["v0.1.0", "--prefix", box.prefix] });
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.equal(server.requests.at(-3), "/api/releases/tags/v0.1.0");
  assert.equal(
    await runInstalled(`${box.prefix}/tunnel`),
    fakeBinaryOutput("v0.1.0", "tunnel-linux-x64"),
  );

  const missing = await install(box, server, { args: ["v9.9.9"] });
  assert.equal(missing.code, 1);
  assert.match(
    oneLine(missing.stderr),
    /^tunnel-install: cannot find release v9\.9\.9 of example\/tunnel at /,
  );
  const both = await install(box, server, { args: ["v0.1.0", "--prerelease"] });
  assert.equal(oneLine(both.stderr), "tunnel-install: give a tag or --prerelease, not both");
});

Deno.test("install.sh refuses without a repository unless stamped or given TUNNEL_REPO", async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const unstamped = await install(box, server, { env: { TUNNEL_REPO: "" } });
  assert.equal(unstamped.code, 1);
  assert.equal(
    oneLine(unstamped.stderr),
    "tunnel-install: no repository to install from: set TUNNEL_REPO=owner/name",
  );
  assert.deepEqual(server.requests, []);

  const stamped = `${box.dir}/install.sh`;
  await Deno.writeTextFile(
    stamped,
    stampRepository(await Deno.readTextFile(INSTALL_SH), "example/tunnel"),
  );
  const result = await install(box, server, { script: stamped, env: { TUNNEL_REPO: "" } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    await runInstalled(`${box.prefix}/tunnel`),
    fakeBinaryOutput(LATEST_STABLE, "tunnel-linux-x64"),
  );
});

Deno.test({
  name: "install.sh downloads with wget when curl is missing, and says so when both are",
  // .ci/run installs wget.
  ignore: !haveProgram("wget"),
}, async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const noCurl = await pathWithout(box.dir, ["curl"]);
  const withWget = await install(box, server, { systemPath: noCurl });
  assert.equal(withWget.code, 0, withWget.stderr);
  assert.equal(
    await runInstalled(`${box.prefix}/tunnel`),
    fakeBinaryOutput(LATEST_STABLE, "tunnel-linux-x64"),
  );
  const corrupt = await install(box, server, { systemPath: noCurl, args: ["v0.0.9"] });
  assert.match(
    oneLine(corrupt.stderr),
    /^tunnel-install: checksum mismatch for tunnel-linux-x64: /,
  );
  const missing = await install(box, server, { systemPath: noCurl, args: ["v9.9.9"] });
  assert.match(oneLine(missing.stderr), /: the server answered with an HTTP error$/);

  const neither = await install(box, server, {
    systemPath: await pathWithout(box.dir, ["curl", "wget"]),
  });
  assert.equal(neither.code, 1);
  assert.equal(
    oneLine(neither.stderr),
    "tunnel-install: neither curl nor wget is installed: install one of them and run this again",
  );
});

for (const shell of SHELLS) {
  Deno.test(`install.sh (${shell}) says in one line why a download failed`, async () => {
    await using box = await sandbox();
    await using server = startFakeReleaseServer();
    // A port nothing listens on: bound, then closed.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closed = `http://127.0.0.1:${listener.addr.port}`;
    listener.close();
    const noApi = await install(box, server, { shell, env: { TUNNEL_RELEASES_API: closed } });
    assert.equal(
      oneLine(noApi.stderr),
      `tunnel-install: cannot find the latest release of example/tunnel at ${closed}/latest: ` +
        "cannot connect",
    );
    const noAssets = await install(box, server, {
      shell,
      env: { TUNNEL_DOWNLOAD_BASE: `${server.downloads}/missing` },
    });
    assert.equal(
      oneLine(noAssets.stderr),
      `tunnel-install: cannot download ${server.downloads}/missing/${LATEST_STABLE}/tunnel-linux-x64: ` +
        "the server answered with an HTTP error; nothing installed",
    );
    assert.deepEqual(await entries(box.prefix), []);
    assert.deepEqual(await entries(box.tmp), []);
  });
}

Deno.test({
  name: "install.sh passes shellcheck as a POSIX sh script",
  // .ci/run installs shellcheck.
  ignore: !haveProgram("shellcheck"),
}, async () => {
  const result = await runCommand("shellcheck", { args: ["--shell=sh", INSTALL_SH] });
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

Deno.test({
  name:
    "install.sh checks with shasum where sha256sum is missing (macOS), and refuses with neither",
  ignore: !haveProgram("shasum"),
}, async () => {
  await using box = await sandbox();
  await using server = startFakeReleaseServer();
  const noSha256sum = await pathWithout(box.dir, ["sha256sum"]);
  const good = await install(box, server, { systemPath: noSha256sum });
  assert.equal(good.code, 0, good.stderr);
  const corrupt = await install(box, server, { systemPath: noSha256sum, args: ["v0.0.9"] });
  assert.match(
    oneLine(corrupt.stderr),
    /^tunnel-install: checksum mismatch for tunnel-linux-x64: /,
  );

  const asked = server.requests.length;
  const neither = await install(box, server, {
    systemPath: await pathWithout(box.dir, ["sha256sum", "shasum"]),
  });
  assert.equal(
    oneLine(neither.stderr),
    "tunnel-install: neither sha256sum nor shasum is installed: one is needed to check the download",
  );
  assert.equal(server.requests.length, asked, "refused before asking anything");
});
