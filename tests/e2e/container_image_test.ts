// The container image without Docker: the Dockerfile's build stage replayed in a temporary
// folder standing for the image's root (its COPY lines through .dockerignore, its RUN
// step), then its ENTRYPOINT run the way docker-compose.yml runs it, as the image's user
// when the test is root (so DENO_DIR and /app are read-only to it, as in the image). A
// client on the host then fetches a payload through it. What stays untested is Docker's
// part: the base images and the COPY --from between the two stages.
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey, writeSecretKeyFile } from "../../core/identity/mod.ts";
import {
  type DenoConfig,
  type Lockfile,
  type ModuleGraph,
  trimToGraph,
} from "../../container-deploy/image_lockfile.ts";
import {
  ManagedProcess,
  runCommand,
  startClient,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";
import { dockerignoreFilter, only, parseDockerfile } from "./_dockerfile.ts";
import { haveProgram } from "./_fixtures.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
/** DENO_DIR of Deno's official images, which the Dockerfile inherits. */
const IMAGE_DENO_DIR = "/deno-dir";
const stages = parseDockerfile(await Deno.readTextFile(`${ROOT}/Dockerfile`));
const [build, runtime] = [stages[0], stages.at(-1)!];

const isRoot =
  new TextDecoder().decode(new Deno.Command("id", { args: ["-u"] }).outputSync().stdout).trim() ===
    "0";
const dropPrivileges = isRoot && haveProgram("setpriv");

/** Every file of the build context, relative, as .dockerignore leaves it. */
async function contextFiles(): Promise<string[]> {
  const keep = dockerignoreFilter(await Deno.readTextFile(`${ROOT}/.dockerignore`));
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.name === ".git") continue;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && keep(path)) out.push(path);
    }
  };
  await walk("");
  return out.sort();
}

/** An image path inside the temporary root. */
function inRoot(root: string, imagePath: string): string {
  return `${root}${imagePath}`;
}

/** An absolute image path without `.` parts or a trailing slash. */
function imagePath(path: string): string {
  return "/" + path.split("/").filter((part) => part !== "" && part !== ".").join("/");
}

/** Replays the build stage's COPY (from the context) and RUN lines under `root`. */
async function replayBuild(root: string): Promise<string> {
  const workdir = only(build, "WORKDIR").words[0];
  const files = await contextFiles();
  let runLog = "";
  for (const { keyword, words } of build.instructions) {
    if (keyword === "COPY") {
      const sources = words.slice(0, -1);
      const dest = words.at(-1)!;
      const destDir = inRoot(root, imagePath(dest.startsWith("/") ? dest : `${workdir}/${dest}`));
      for (const source of sources) {
        const dir = source.replace(/\/$/, "");
        const matched = files.filter((f) => f === dir || f.startsWith(`${dir}/`));
        assert.ok(matched.length > 0, `COPY ${source}: nothing in the build context`);
        for (const file of matched) {
          const target = `${destDir}/${
            file === dir ? file.split("/").at(-1) : file.slice(dir.length + 1)
          }`;
          await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
          await Deno.copyFile(`${ROOT}/${file}`, target);
        }
      }
    } else if (keyword === "RUN") {
      // The image's absolute paths (/build/...) point into the temporary root.
      const command = words.map((w) => (w.startsWith("/") ? inRoot(root, w) : w));
      const result = await runCommand(command[0], {
        args: command.slice(1),
        cwd: inRoot(root, workdir),
        env: {
          DENO_DIR: inRoot(root, IMAGE_DENO_DIR),
          PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:/usr/bin:/bin`,
          NO_COLOR: "1",
        },
        timeoutMs: 180_000,
      });
      assert.equal(result.code, 0, `RUN ${words.join(" ")}:\n${result.stdout}${result.stderr}`);
      runLog += result.stdout + result.stderr;
    } else {
      assert.ok(["WORKDIR"].includes(keyword), `the test does not replay ${keyword}`);
    }
  }
  return runLog;
}

/**
 * Copies the npm packages the image needs from this Deno's own cache into the image's
 * DENO_DIR, so the build step finds them and fetches only what this machine never had.
 */
async function seedNpmCache(root: string): Promise<void> {
  const info = await runCommand(Deno.execPath(), { args: ["info", "--json"] });
  const npmCache = `${JSON.parse(info.stdout).npmCache}/registry.npmjs.org`;
  const graph = await runCommand(Deno.execPath(), {
    args: ["info", "--json", "--no-npm", "cli/main.ts"],
    cwd: ROOT,
  });
  const { lock } = trimToGraph(
    JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as DenoConfig,
    JSON.parse(await Deno.readTextFile(`${ROOT}/deno.lock`)) as Lockfile,
    JSON.parse(graph.stdout) as ModuleGraph,
  );
  for (const key of Object.keys(lock.npm ?? {})) {
    const name = key.slice(0, key.lastIndexOf("@"));
    const to = `${inRoot(root, IMAGE_DENO_DIR)}/npm/registry.npmjs.org/${name}`;
    await Deno.mkdir(to, { recursive: true });
    // Not in this cache (a machine that never ran the CLI): the build step fetches it.
    await runCommand("cp", { args: ["-r", `${npmCache}/${name}/.`, to] });
  }
}

/** The Deno binary the image's user runs: this one, where that user can reach it. */
async function denoFor(root: string): Promise<string> {
  if (!dropPrivileges) return Deno.execPath();
  const target = `${root}/bin/deno`;
  await Deno.mkdir(`${root}/bin`);
  await Deno.link(Deno.execPath(), target).catch(() => Deno.copyFile(Deno.execPath(), target));
  return target;
}

Deno.test(`the image's build and ENTRYPOINT work without Docker${dropPrivileges ? ", as uid 1993 with everything read-only" : " (not root: as this user)"}`, async () => {
  const root = await Deno.makeTempDir({ prefix: "tunnel-image-" });
  try {
    await Deno.chmod(root, 0o755);
    await Deno.mkdir(inRoot(root, `${IMAGE_DENO_DIR}/npm/registry.npmjs.org`), { recursive: true });
    await seedNpmCache(root);
    const runLog = await replayBuild(root);
    const fetched = runLog.split("\n").filter((line) => line.startsWith("Download "));
    if (fetched.length > 0) console.log(`the build step fetched from npm:\n${fetched.join("\n")}`);

    // Only the CLI's packages are in the image, and its lockfile still matches its config.
    const app = inRoot(root, only(build, "WORKDIR").words[0]);
    const lock = JSON.parse(await Deno.readTextFile(`${app}/deno.lock`)) as Lockfile;
    const npm = inRoot(root, `${IMAGE_DENO_DIR}/npm/registry.npmjs.org`);
    for (const key of Object.keys(lock.npm ?? {})) {
      const at = key.lastIndexOf("@");
      await Deno.stat(`${npm}/${key.slice(0, at)}/${key.slice(at + 1)}`); // cached, or throws
    }
    const cached = [];
    for await (const entry of Deno.readDir(npm)) cached.push(entry.name);
    for (const testOnly of ["@number0", "kubernetes-models", "ajv", "yaml"]) {
      assert.ok(!cached.includes(testOnly), `${testOnly} is in the image`);
    }

    // Mounted files: compose's server.toml, a key and a tokens file the image's user owns.
    const [uid, gid] = only(runtime, "USER").words[0].split(":").map(Number);
    const etc = inRoot(root, "/etc/tunnel");
    await Deno.mkdir(etc, { recursive: true });
    await Deno.chmod(inRoot(root, "/etc"), 0o755);
    await Deno.chmod(etc, 0o755);
    await Deno.copyFile(`${ROOT}/container-deploy/server.toml`, `${etc}/server.toml`);
    await writeSecretKeyFile(`${etc}/server.key`, SecretKey.generate());
    const token = generateToken();
    await Deno.writeTextFile(`${etc}/auth-tokens`, `${token}\n`, { mode: 0o600 });
    if (dropPrivileges) {
      for (const file of ["server.key", "auth-tokens"]) {
        await Deno.chown(`${etc}/${file}`, uid, gid);
      }
    }

    const compose = parseYaml(
      await Deno.readTextFile(`${ROOT}/container-deploy/docker-compose.yml`),
    ) as { services: { tunnel: { command: string[] } } };
    const remap = (word: string) =>
      word.replace(
        /(^|=)(\/app|\/etc\/tunnel)(?=\/|$)/,
        (_, before, dir) => before + inRoot(root, dir),
      );
    const entrypoint = only(runtime, "ENTRYPOINT").words;
    assert.deepEqual(entrypoint.slice(0, 3), ["/tini", "--", "/bin/deno"]);
    const deno = await denoFor(root);
    const env = [
      `PATH=/usr/bin:/bin`,
      `DENO_DIR=${inRoot(root, IMAGE_DENO_DIR)}`,
      ...runtime.instructions.filter((i) => i.keyword === "ENV").map((i) => i.words.join(" ")),
    ];
    const argv = [
      ...(dropPrivileges
        ? ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"]
        : []),
      "env",
      "-i",
      ...env,
      deno,
      ...entrypoint.slice(3).map(remap),
      ...compose.services.tunnel.command.map(remap),
      // On loopback, offline: no relay, no record, the echo server allowed.
      ...["--bind", "127.0.0.1:0", "--no-relay", "--no-dns", "--allowed-tcp", "127.0.0.0/8"],
    ];

    const server = ManagedProcess.spawn(argv[0], {
      args: argv.slice(1),
      cwd: inRoot(root, only(runtime, "WORKDIR").words[0]),
      stopSignal: "SIGTERM", // what `docker stop` and Kubernetes send
    });
    try {
      await server.waitForLine("Waiting for clients to connect...", { timeoutMs: 30_000 });
      if (dropPrivileges && haveProgram("ps")) {
        // (Reading /proc itself would need --allow-all.)
        const ps = await runCommand("ps", { args: ["-o", "uid=", "-p", `${server.process.pid}`] });
        assert.equal(ps.stdout.trim(), `${uid}`, "not running as the image's user");
      }
      const stdout = server.lines("stdout");
      const endpointId = stdout.map((l) => /^EndpointId: (\S+)$/.exec(l)?.[1]).find(Boolean)!;
      const addr = stdout.map((l) => /^Listening on (\S+)$/.exec(l)?.[1]).find(Boolean)!;
      await using echo = startTcpEchoServer();
      await using client = await startClient({
        serverNodeId: endpointId,
        serverAddr: addr,
        source: `tcp://127.0.0.1:${echo.port}`,
        authToken: token,
      });
      const { sent, received } = await transferPayload(client.localPort, 1_000_000);
      assert.equal(received.sha256, sent.sha256);
    } finally {
      const status = await server.stop();
      assert.equal(status.code, 0, server.stderrText());
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the image's default command prints the help", async () => {
  const entrypoint = only(runtime, "ENTRYPOINT").words;
  const cmd = only(runtime, "CMD").words;
  // Its own cache and config: only the flags and the default command are under test.
  const args = entrypoint.slice(3).filter((w) => !/^--(cached-only|config=)/.test(w))
    .map((w) => w.replace(/^\/app\//, `${ROOT}/`));
  const result = await runCommand(Deno.execPath(), { args: [...args, ...cmd], cwd: ROOT });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Usage: tunnel/m);
});
