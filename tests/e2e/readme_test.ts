// The README's commands, run as written: the Quick start alias and every command
// after it, manual mode's pair; and what the README hands on to docs/: the
// permission table's flag sets and the config files (docs/CLI.md), the relay's
// config (docs/RELAY.md), and each option the README or those docs name. Only
// documented placeholders are replaced
// (the repository path, host names, LAN addresses, the EndpointId and ports), and
// everything stays on loopback: no STUN server or other host is ever contacted.
import assert from "node:assert/strict";
import { loadConfig, loadRelayConfig } from "../../cli/config.ts";
import { resolveRelaySettings } from "../../cli/commands/relay.ts";
import { ENV_VARS } from "../../cli/env.ts";
import { resolveClientIrohSettings } from "../../cli/commands/client_iroh.ts";
import { resolveServerIrohSettings } from "../../cli/commands/server_iroh.ts";
import { SecretKey, writeSecretKeyFile } from "../../core/identity/mod.ts";
import {
  codeSpans,
  fencedBlocks,
  FORWARDING_PERMISSION_FLAGS,
  freePort,
  ManagedProcess,
  MANUAL_PERMISSION_FLAGS,
  pairManualProcesses,
  PROJECT_CONFIG,
  readmeSection,
  RELAY_PERMISSION_FLAGS,
  relayPermissionFlags,
  runCli,
  runCommand,
  type ShellStep,
  shellSteps,
  shellWords,
  startSshd,
  startTcpEchoServer,
  tableRows,
  transferPayload,
  TUNNEL_MAIN,
  tunnelCommandArgs,
  vpnPermissionFlags,
} from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";
import denoJson from "../../deno.json" with { type: "json" };

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const README = await Deno.readTextFile(`${ROOT}/README.md`);
/** The command, option, permission and config reference the README links to. */
const CLI_DOC = await Deno.readTextFile(`${ROOT}/docs/CLI.md`);
/** `tunnel relay`'s page: options, access tokens, its config file. */
const RELAY_DOC = await Deno.readTextFile(`${ROOT}/docs/RELAY.md`);
/** The README and the user docs it moved its reference to: every option they name must exist. */
const USER_DOC_PATHS = [
  "README.md",
  "docs/INSTALL.md",
  "docs/CLI.md",
  "docs/VPN.md",
  "docs/RELAY.md",
  "docs/TROUBLESHOOTING.md",
];
const USER_DOCS = await Promise.all(
  USER_DOC_PATHS.map(async (path) => ({ path, text: await Deno.readTextFile(`${ROOT}/${path}`) })),
);
const ELIDED_ID = "2xnb…kpga";

const isRoot =
  new TextDecoder().decode(new Deno.Command("id", { args: ["-u"] }).outputSync().stdout).trim() ===
    "0";
const canRunSshd = isRoot && haveProgram("sshd") && haveProgram("ssh");

/** The Quick start alias as an argument list, with this repository and this Deno. */
function aliasArgs(): string[] {
  const [alias] = shellSteps(fencedBlocks(readmeSection(README, "Quick start"), "sh")[0]);
  const words = shellWords(alias.command);
  assert.equal(words[0], "alias");
  assert.ok(words[1].startsWith("tunnel="), alias.command);
  const argv = shellWords(words[1].slice("tunnel=".length));
  assert.deepEqual(argv.slice(0, 2), ["deno", "run"]);
  assert.equal(argv.at(-1), "/path/to/tunnel/cli/main.ts");
  return [...argv.slice(1, -1), `${ROOT}/cli/main.ts`];
}

/** Replaces the README's placeholders, and fails if one of them is no longer used. */
class Placeholders {
  readonly #used = new Set<string>();
  constructor(readonly pairs: [string, string][]) {}

  apply(command: string): string {
    for (const [from, to] of this.pairs) {
      if (command.includes(from)) this.#used.add(from);
      command = command.replaceAll(from, to);
    }
    return command;
  }

  assertAllUsed(): void {
    const unused = this.pairs.map(([from]) => from).filter((from) => !this.#used.has(from));
    assert.deepEqual(unused, [], "README placeholders the test replaces but the README lost");
  }
}

/** What a step is, from its first words; anything the test does not know fails it. */
function kind(step: ShellStep): string {
  const words = step.command.split(" ");
  if (words[0] === "alias") return "alias";
  if (words[0] === "ssh") return "ssh";
  if (words[0] !== "tunnel") {
    throw new Error(`README runs a command this test does not know: ${step.command}`);
  }
  return ["server", "client"].includes(words[1]) && words[2] === "manual"
    ? `${words[1]} manual`
    : words[1];
}

/** `tunnel ...` (after placeholders) as a `deno` argument list through the alias. */
function throughAlias(alias: string[], command: string): string[] {
  const [first, ...rest] = shellWords(command);
  assert.equal(first, "tunnel", command);
  return [...alias, ...rest];
}

/** A service behind the tunnel: sshd when this machine can run one, else a TCP echo server. */
async function startService() {
  if (canRunSshd) {
    const sshd = await startSshd();
    return {
      port: sshd.port,
      /** Runs the README's `ssh -p PORT user@127.0.0.1` with the fixture's key and user. */
      async use(port: number) {
        const result = await runCommand("ssh", {
          args: [...sshd.sshArgs(port), "echo", "through-the-readme-tunnel"],
          timeoutMs: 30_000,
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout.trim(), "through-the-readme-tunnel");
      },
      [Symbol.asyncDispose]: () => sshd.stop(),
    };
  }
  console.log("readme: no sshd (needs root and openssh-server): checking ssh's port with an echo");
  const echo = startTcpEchoServer();
  return {
    port: echo.port,
    async use(port: number) {
      const { sent, received } = await transferPayload(port, 1_000_000);
      assert.equal(received.sha256, sent.sha256);
    },
    [Symbol.asyncDispose]: () => echo[Symbol.asyncDispose](),
  };
}

function assertSsh(command: string, targetPort: number): void {
  assert.match(command, new RegExp(`^ssh -p ${targetPort} \\S+@127\\.0\\.0\\.1$`), command);
}

/** A `tunnel relay` on loopback, standing in for iroh's public relay and pkarr relay. */
async function startLocalRelay() {
  const proc = ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs(["relay", "--bind", "127.0.0.1:0", "--no-stun"]),
  });
  const line = await proc.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
  await proc.waitForLine("Relay ready", { timeoutMs: 20_000 });
  const url = line.replace("Relay listening on ", "");
  return { proc, url, pkarr: `${url}pkarr` };
}

Deno.test("README Quick start runs as written: alias, key, token, server, client, ssh", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tunnel-readme-" });
  try {
    await using service = await startService();
    // iroh's public relay and pkarr relay, which the README's output shows, are
    // replaced by a local `tunnel relay`: the test appends its URLs as flags.
    const relay = await startLocalRelay();
    await using _relay = relay.proc;
    const alias = aliasArgs();
    const targetPort = freePort();
    const steps = shellSteps(fencedBlocks(readmeSection(README, "Quick start"), "sh")[0]);
    assert.deepEqual(steps.map(kind), [
      "alias",
      "generate-server-key",
      "generate-token",
      "server",
      "client",
      "ssh",
    ]);
    let id = "";
    const placeholders = new Placeholders([
      ["https://euc1-1.relay.n0.iroh.link/", relay.url],
      ["https://dns.iroh.link/pkarr", relay.pkarr],
      [ELIDED_ID, "ENDPOINT_ID"],
      ["tcp://127.0.0.1:22", `tcp://127.0.0.1:${service.port}`],
      ["127.0.0.1:2222", `127.0.0.1:${targetPort}`],
      ["-p 2222", `-p ${targetPort}`],
    ]);
    const localInfrastructure: Record<string, string> = {
      server: ` --relay-url ${relay.url} --dns-server ${relay.pkarr} --no-port-mapping`,
      client: ` --dns-server ${relay.pkarr} --no-port-mapping`,
    };
    const run = (step: ShellStep) =>
      placeholders.apply(step.command).replaceAll("ENDPOINT_ID", id) +
      (localInfrastructure[kind(step)] ?? "");
    const spawn = (step: ShellStep) =>
      ManagedProcess.spawn(Deno.execPath(), { args: throughAlias(alias, run(step)), cwd: dir });

    // generate-server-key, as promised: "EndpointId: 2xnb…kpga (file mode 0600)".
    const made = await runCommand(Deno.execPath(), {
      args: throughAlias(alias, run(steps[1])),
      cwd: dir,
    });
    assert.equal(made.code, 0, made.stderr);
    assert.match(steps[1].comments[0], /^EndpointId: \S+ \(file mode 0600\)$/);
    id = /^EndpointId: ([a-z2-7]{52})$/.exec(made.stdout.trim())?.[1] ?? "";
    assert.ok(id, made.stdout);
    assert.equal((await Deno.stat(`${dir}/server.key`)).mode! & 0o777, 0o600);

    // generate-token prints a token like the one the README shows (and then uses).
    const token = await runCommand(Deno.execPath(), {
      args: throughAlias(alias, run(steps[2])),
      cwd: dir,
    });
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^i[A-Za-z0-9_-]{16}[A-Za-z0-9_.-]$/);
    assert.match(steps[2].comments[0], /^i[A-Za-z0-9_-]{16}[A-Za-z0-9_.-]$/);

    await using server = spawn(steps[3]);
    await server.waitForLine("Waiting for clients to connect...", { stream: "stdout" });
    const printed = server.lines("stdout");
    for (const promised of steps[3].comments.map((line) => placeholders.apply(line))) {
      assert.ok(
        printed.includes(promised.replace("ENDPOINT_ID", id)),
        `${promised}\n${printed.join("\n")}`,
      );
    }

    await using client = spawn(steps[4]);
    const ready = placeholders.apply(steps[4].comments.at(-1)!);
    assert.equal(ready, `Tunnel ready: 127.0.0.1:${targetPort} -> tcp://127.0.0.1:${service.port}`);
    await client.waitForLine(ready, { stream: "stdout" });
    // The README shows the relay path; on one machine the record's direct address may win.
    assert.equal(
      placeholders.apply(steps[4].comments[0]).replace("ENDPOINT_ID", id),
      `Connected to server ${id} through relay ${relay.url}`,
    );
    assert.match(
      client.lines("stdout")[0],
      new RegExp(`^Connected to server ${id} (through relay ${relay.url}|at \\S+)$`),
    );

    assertSsh(run(steps[5]), targetPort);
    await service.use(targetPort);
    placeholders.assertAllUsed();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("README manual mode runs as written with the alias: offer and answer pasted, Direct (Host)", async () => {
  await using service = await startService();
  const alias = aliasArgs();
  const targetPort = freePort();
  const block = fencedBlocks(readmeSection(README, "manual mode"), "sh")[0];
  const steps = shellSteps(block);
  assert.deepEqual(steps.map(kind), ["client manual", "server manual", "ssh"]);
  // The README's LAN addresses become loopback: ICE offers nothing else, and with
  // --no-stun (which the README shows) nothing is sent to a STUN server.
  const placeholders = new Placeholders([
    ["192.168.1.10", "127.0.0.1"],
    ["192.168.1.20", "127.0.0.1"],
    ["tcp://127.0.0.1:22", `tcp://127.0.0.1:${service.port}`],
    ["127.0.0.1:2222", `127.0.0.1:${targetPort}`],
    ["-p 2222", `-p ${targetPort}`],
  ]);
  for (const step of steps.slice(0, 2)) assert.match(step.command, / --no-stun /);
  const spawn = (step: ShellStep) =>
    new Deno.Command(Deno.execPath(), {
      args: throughAlias(alias, placeholders.apply(step.command)),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const client = spawn(steps[0]);
  await using pair = pairManualProcesses(client, spawn(steps[1]));
  // What the README promises both sides print once the answer is pasted.
  assert.match(block, /^# {4}Connection: Direct \(Host\)$/m);
  assert.match(
    block,
    /^# and the client: Tunnel ready: 127\.0\.0\.1:2222 -> tcp:\/\/127\.0\.0\.1:22$/m,
  );
  await pair.client.waitFor(
    new RegExp(
      `^Tunnel ready: 127\\.0\\.0\\.1:${targetPort} -> tcp://127\\.0\\.0\\.1:${service.port}$`,
    ),
    30_000,
  );
  assert.ok(
    pair.client.stdout.includes("   Connection: Direct (Host)"),
    pair.client.stdout.join("\n"),
  );
  assert.ok(
    pair.client.stdout.some((line) =>
      /^ {3}Local: 127\.0\.0\.1:\d+ -> Remote: 127\.0\.0\.1:\d+$/.test(line)
    ),
  );
  assertSsh(placeholders.apply(steps[2].command), targetPort);
  await service.use(targetPort);
  placeholders.assertAllUsed();
});

/**
 * Whether `flags` grant what `flag` does: the same flag, the same permission
 * unscoped (`--allow-read` covers `--allow-read=/proc`), or a list that holds
 * every item (`--allow-run=ip,iptables` covers `--allow-run=ip`).
 */
function grants(flags: string[], flag: string): boolean {
  if (flags.includes(flag)) return true;
  const [name, list] = flag.split("=");
  if (list === undefined || flags.includes(name)) return list !== undefined;
  const held = flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1).split(",");
  return held !== undefined && list.split(",").every((item) => held.includes(item));
}

/** The Deno flags of each row of the permission table (docs/CLI.md), by the row's commands. */
function permissionRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const [commands, flags] of tableRows(readmeSection(CLI_DOC, "Permissions"))) {
    rows.set(
      codeSpans(commands).join(", "),
      flags === "none" ? [] : shellWords(codeSpans(flags)[0]),
    );
  }
  return rows;
}

function runDeno(flags: string[], args: string[], stdin?: string) {
  return runCommand(Deno.execPath(), {
    args: ["run", "--no-prompt", "--config", PROJECT_CONFIG, ...flags, TUNNEL_MAIN, ...args],
    stdin,
    timeoutMs: 20_000,
  });
}

Deno.test("docs/CLI.md permission table: each row is exactly what its commands run with", async () => {
  const rows = permissionRows();
  assert.deepEqual([...rows.keys()], [
    "server, client, server manual, client manual, server nostr, client nostr",
    "vpn server",
    "vpn server --masquerade",
    "vpn client",
    "relay",
    "relay --records-file",
    "generate-server-key, generate-client-key, --force",
    "show-server-id, show-client-key",
    "generate-token",
  ]);
  // The end-to-end tests run iroh and manual mode, and `tunnel relay`, with the harness's sets.
  const peers = "server, client, server manual, client manual, server nostr, client nostr";
  assert.deepEqual(rows.get(peers), [...FORWARDING_PERMISSION_FLAGS]);
  assert.deepEqual(rows.get(peers), [...MANUAL_PERMISSION_FLAGS]);
  assert.deepEqual(rows.get("relay"), [...RELAY_PERMISSION_FLAGS]);
  // tests/e2e/relay_records_file_test.ts runs the relay with this set, FILE being its records file.
  assert.deepEqual(
    rows.get("relay --records-file"),
    relayPermissionFlags(["relay", "--records-file", "FILE"]),
  );
  // The VPN tests (tests/netns/vpn_test.ts) run with the harness's sets, FILE being the lock.
  assert.deepEqual(rows.get("vpn server"), vpnPermissionFlags(["vpn", "server"]));
  assert.deepEqual(
    rows.get("vpn server --masquerade"),
    vpnPermissionFlags(["vpn", "server", "--masquerade"]),
  );
  assert.deepEqual(
    rows.get("vpn client"),
    vpnPermissionFlags(["vpn", "client", "--lock-file", "FILE"]),
  );
  assert.ok(rows.get(peers)!.includes(`--allow-env=${ENV_VARS.join(",")}`));

  const dir = await Deno.makeTempDir();
  try {
    const key = `${dir}/server.key`;
    const withFile = (flags: string[]) => flags.map((flag) => flag.replace("=FILE", `=${key}`));
    const made = await runDeno(
      withFile(rows.get("generate-server-key, generate-client-key, --force")!),
      [
        "generate-server-key",
        "--output",
        key,
      ],
    );
    assert.equal(made.code, 0, made.stderr);
    const forced = await runDeno(
      withFile(rows.get("generate-server-key, generate-client-key, --force")!),
      [
        "generate-server-key",
        "--output",
        key,
        "--force",
      ],
    );
    assert.equal(forced.code, 0, forced.stderr);
    const shown = await runDeno(withFile(rows.get("show-server-id, show-client-key")!), [
      "show-server-id",
      "--secret-file",
      key,
    ]);
    assert.equal(shown.stdout, forced.stdout, shown.stderr);
    const clientKey = `${dir}/client.key`;
    const withClientKey = (flags: string[]) =>
      flags.map((flag) => flag.replace("=FILE", `=${clientKey}`));
    for (const force of [[], ["--force"]]) {
      const madeKey = await runDeno(
        withClientKey(rows.get("generate-server-key, generate-client-key, --force")!),
        ["generate-client-key", "--output", clientKey, ...force],
      );
      assert.equal(madeKey.code, 0, madeKey.stderr);
      const shownKey = await runDeno(withClientKey(rows.get("show-server-id, show-client-key")!), [
        "show-client-key",
        "--secret-file",
        clientKey,
      ]);
      assert.equal(shownKey.stdout, madeKey.stdout, shownKey.stderr);
    }
    const token = await runDeno(rows.get("generate-token")!, ["generate-token"]);
    assert.equal(token.code, 0, token.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }

  // Manual mode without --allow-sys works when --host-candidate names the addresses...
  const manual = rows.get(peers)!;
  const withoutSys = manual.filter((flag) => !flag.startsWith("--allow-sys"));
  const offer = ["client", "manual", "-s", "tcp://127.0.0.1:22", "-t", "127.0.0.1:0", "--no-stun"];
  const named = await runDeno(withoutSys, [...offer, "--host-candidate", "127.0.0.1"], "");
  assert.match(named.stdout, /-----BEGIN TUNNEL MANUAL OFFER-----/, named.stderr);
  // ...and says what it needs when it has to list them itself.
  const listed = await runDeno(withoutSys, offer, "");
  assert.match(listed.stderr, /--allow-sys=networkInterfaces/);
  assert.doesNotMatch(listed.stdout, /BEGIN TUNNEL MANUAL OFFER/);

  // `deno task tunnel` and the alias grant the union of the rows (files: any).
  const task = shellWords(denoJson.tasks.tunnel);
  const union = new Set([...rows.values()].flat().map((flag) => flag.replace(/=FILE$/, "")));
  for (const flag of union) assert.ok(grants(task, flag), `deno task tunnel lacks ${flag}`);
  assert.deepEqual(
    aliasArgs().slice(0, -1),
    task.slice(1, -1),
    "the alias and deno task tunnel differ",
  );
});

Deno.test("docs/CLI.md config files load as shown, with the README Quick start's token", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const blocks = fencedBlocks(readmeSection(CLI_DOC, "Config files"), "toml");
    assert.equal(blocks.length, 2);
    await Deno.writeTextFile(`${dir}/server.toml`, blocks[0]);
    await Deno.writeTextFile(`${dir}/client.toml`, blocks[1]);
    await writeSecretKeyFile(`${dir}/server.key`, SecretKey.generate());
    const server = await resolveServerIrohSettings(
      {},
      await loadConfig(`${dir}/server.toml`, "server", "iroh"),
    );
    const client = await resolveClientIrohSettings(
      {},
      await loadConfig(`${dir}/client.toml`, "client", "iroh"),
    );
    assert.equal(typeof client.credential, "string");
    const token = client.credential as string;
    assert.ok(server.tokens.has(new TextEncoder().encode(token)));
    const quickStart = fencedBlocks(readmeSection(README, "Quick start"), "sh")[0];
    assert.ok(
      new RegExp(`--auth-tokens ${token}\\s`).test(quickStart),
      "Quick start uses another token",
    );
    assert.deepEqual(client.serverAddrs, [{ hostname: "server.example", port: 7000 }]);

    const [relayToml] = fencedBlocks(readmeSection(RELAY_DOC, "Config file"), "toml");
    await Deno.writeTextFile(`${dir}/relay.toml`, relayToml);
    const relay = await resolveRelaySettings(
      { stun: true },
      await loadRelayConfig(`${dir}/relay.toml`),
    );
    assert.deepEqual(relay.tls, {
      certFile: `${dir}/fullchain.pem`,
      keyFile: `${dir}/privkey.pem`,
    });
    assert.deepEqual(relay.accessTokens, ["s3cret"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Flags of the other tools the container and package commands of the docs run. */
const OTHER_TOOLS_FLAGS = new Set([
  "--dry-run", // deno publish
  "--build", // docker compose up
  "--name", // docker run
  "--network",
  "--read-only",
  "--restart",
  "--rm",
  "--from-file", // kubectl create secret
  "--from-literal",
  "--ignore-missing", // sha256sum -c
  "--only", // deno task bench (docs/RELAY.md's Scale names its suite)
]);

Deno.test("every option the README and its user docs name exists, and every --target they show is loopback", async () => {
  const helps = await Promise.all(
    [
      ["--help"],
      ["server", "--help"],
      ["server", "manual", "--help"],
      ["client", "--help"],
      ["client", "manual", "--help"],
      ["generate-token", "--help"],
      ["generate-server-key", "--help"],
      ["show-server-id", "--help"],
      ["generate-client-key", "--help"],
      ["show-client-key", "--help"],
      ["relay", "--help"],
      ["status", "--help"],
      ["server", "nostr", "--help"],
      ["client", "nostr", "--help"],
      ["generate-nostr-key", "--help"],
      ["show-npub", "--help"],
      ["vpn", "--help"],
      ["vpn", "server", "--help"],
      ["vpn", "client", "--help"],
    ].map((args) => runCli(args)),
  );
  // install.sh's options are the installer's own: its --help lists them.
  const installer = await runCommand("sh", { args: [`${ROOT}/install.sh`, "--help"] });
  assert.equal(installer.code, 0, installer.stderr);
  const tunnelHelp = [...helps.map((result) => result.stdout), installer.stdout].join("\n");
  const named = new Map<string, string>();
  for (const { path, text } of USER_DOCS) {
    for (const flag of text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []) {
      if (!named.has(flag)) named.set(flag, path);
    }
  }
  for (const [flag, path] of named) {
    if (new RegExp(`${flag}(?![a-z0-9-])`).test(tunnelHelp)) continue;
    if (OTHER_TOOLS_FLAGS.has(flag)) continue;
    // Not tunnel's: then Deno's (`deno run` refuses a flag it does not know).
    const deno = await runCommand(Deno.execPath(), { args: ["run", flag, "--help"] });
    assert.equal(deno.code, 0, `${path} names ${flag}, which neither tunnel nor deno has`);
  }
  // The paragraph on `ps` points at ways to keep secrets off the command line that exist.
  const paragraph = README.split("\n\n").find((text) => text.includes("`ps`"));
  assert.ok(paragraph, "README no longer says that flags show in ps");
  const spans = codeSpans(paragraph);
  for (const name of spans.filter((span) => span.startsWith("TUNNEL_"))) {
    assert.ok((ENV_VARS as readonly string[]).includes(name), `${name} is not read`);
  }
  for (
    const needed of [
      "--secret-file",
      "--auth-token-file",
      "--auth-tokens-file",
      "TUNNEL_AUTH_TOKEN",
      "TUNNEL_AUTH_TOKENS",
    ]
  ) {
    assert.ok(spans.includes(needed), `the ps paragraph does not offer ${needed}`);
  }
  // A --target on all interfaces opens the tunnel to the client's network: never shown.
  for (const { path, text } of USER_DOCS) {
    for (const [, target] of text.matchAll(/(?:--target |target = ")([^\s"`]+)/g)) {
      if (target === "HOST:PORT") continue; // the option's description
      assert.match(target, /^(127\.0\.0\.1|\[::1\]):\d+$/, `${path} shows --target ${target}`);
    }
  }
});

/** The long options a command's help lists (`-h, --help` aside), and its short-to-long pairs. */
function helpOptions(help: string): { longs: Set<string>; shorts: Map<string, string> } {
  const longs = new Set<string>();
  const shorts = new Map<string, string>();
  // Commander puts each option at two spaces; wrapped descriptions are indented further.
  for (const [, short, long] of help.matchAll(/^ {2}(?:(-[a-zA-Z]), )?(--[a-z][a-z0-9-]*)/gm)) {
    if (long === "--help") continue;
    longs.add(long);
    if (short) shorts.set(short, long);
  }
  return { longs, shorts };
}

/** The options the first column of `table`'s rows names, short ones made long with `shorts`. */
function tableOptions(rows: string[][], shorts: Map<string, string>): Set<string> {
  const named = new Set<string>();
  for (const [cell] of rows) {
    for (const [long] of cell.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)) named.add(long);
    for (const [short] of cell.matchAll(/(?<![\w-])-[a-zA-Z](?![\w-])/g)) {
      const long = shorts.get(short);
      assert.ok(long, `the table names ${short}, which no command it documents has`);
      named.add(long);
    }
  }
  return named;
}

/** The body rows of the first table in `text` (tableRows reads every table line of its text). */
function firstTable(text: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith("|"));
  assert.ok(start >= 0, "no table");
  const end = lines.findIndex((line, i) => i > start && !line.startsWith("|"));
  return tableRows(lines.slice(start, end < 0 ? undefined : end).join("\n"));
}

/** The first table after the line `marker` in `text`. */
function tableAfter(text: string, marker: string): string[][] {
  const at = text.indexOf(`\n${marker}\n`);
  assert.ok(at >= 0, `cannot find '${marker}'`);
  return firstTable(text.slice(at + marker.length + 2));
}

Deno.test("each option table of the docs lists exactly the options of its commands' help", async () => {
  // Derived from --help both ways: an option added to a command without its row (or a row
  // left after its option went) fails here, whoever adds it.
  const tables: { what: string; rows: string[][]; commands: string[][] }[] = [
    {
      what: "docs/CLI.md `tunnel server [iroh]`",
      rows: tableAfter(CLI_DOC, "`tunnel server [iroh]`"),
      commands: [["server", "iroh"]],
    },
    {
      what: "docs/CLI.md `tunnel client [iroh]`",
      rows: tableAfter(CLI_DOC, "`tunnel client [iroh]`"),
      commands: [["client", "iroh"]],
    },
    {
      what: "docs/CLI.md manual mode",
      rows: firstTable(readmeSection(CLI_DOC, "manual mode")),
      commands: [["server", "manual"], ["client", "manual"]],
    },
    {
      what: "docs/CLI.md nostr mode",
      rows: firstTable(readmeSection(CLI_DOC, "nostr mode")),
      commands: [["server", "nostr"], ["client", "nostr"]],
    },
    {
      what: "docs/RELAY.md tunnel relay",
      rows: firstTable(readmeSection(RELAY_DOC, "Running it")),
      commands: [["relay"]],
    },
  ];
  for (const { what, rows, commands } of tables) {
    assert.ok(rows.length > 0, `${what}: no table`);
    const helps = await Promise.all(commands.map((args) => runCli([...args, "--help"])));
    const shorts = new Map<string, string>();
    const everyHelp = new Set<string>();
    for (const [i, result] of helps.entries()) {
      assert.equal(result.code, 0, `${commands[i].join(" ")} --help: ${result.stderr}`);
      const options = helpOptions(result.stdout);
      options.shorts.forEach((long, short) => shorts.set(short, long));
      options.longs.forEach((long) => everyHelp.add(long));
    }
    const documented = tableOptions(rows, shorts);
    const undocumented = [...everyHelp].filter((option) => !documented.has(option));
    assert.deepEqual(undocumented, [], `${what}: options in the help but not in the table`);
    const unknown = [...documented].filter((option) => !everyHelp.has(option));
    assert.deepEqual(unknown, [], `${what}: options in the table but in no help`);
  }
});

Deno.test("docs/INSTALL.md's commands name the repository through $REPO, set before use, never a literal placeholder", async () => {
  const install = await Deno.readTextFile(`${ROOT}/docs/INSTALL.md`);
  assert.doesNotMatch(install, /OWNER\/(REPO|NAME)/);
  const blocks = [...fencedBlocks(install, "sh"), ...fencedBlocks(install, "powershell")];
  let defined = false;
  let urls = 0;
  for (const block of blocks) {
    if (/^\$?REPO ?= ?"?owner\/name"?/m.test(block)) defined = true;
    for (const [url] of block.matchAll(/github\.com\/[^\s"')]+/g)) {
      urls++;
      assert.match(url, /^github\.com\/\$REPO(\/|$)/, `INSTALL.md runs ${url}`);
      assert.ok(defined, `INSTALL.md uses $REPO before a block sets it: ${url}`);
    }
  }
  assert.ok(urls >= 8, "INSTALL.md lost its install commands");
  // The shell blocks parse as shell.
  for (const block of fencedBlocks(install, "sh")) {
    const syntax = await runCommand("sh", { args: ["-n", "-c", block] });
    assert.equal(syntax.code, 0, `${block}\n${syntax.stderr}`);
  }
});
