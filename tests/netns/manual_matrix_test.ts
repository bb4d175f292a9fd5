/**
 * manual mode through real NATs: for each pair of NAT kinds, a client behind one
 * and a server behind the other exchange blocks, punch through, and carry SSH
 * and a 20 MB checksummed transfer; pairs with no direct path must fail cleanly
 * within 30 s of the offer. Prints one result line per case (docs/NAT_MATRIX.md).
 */
import assert from "node:assert/strict";
import {
  ManagedProcess,
  PROJECT_CONFIG,
  runCommand,
  startManualPair,
  startSshd,
  TUNNEL_MAIN,
} from "../harness/mod.ts";
import { type Bed, type BedHost, type BedOptions, canBuildBeds, createBed } from "./mod.ts";
import { transferInBed } from "./tunnels_in_bed.ts";

const support = await canBuildBeds();
if (!support.ok) console.log(`skipping manual-mode NAT matrix: ${support.reason}`);
const HERE = new URL(".", import.meta.url).pathname;
const SIZE = 20_000_000;

function spawner(bed: Bed, host: BedHost) {
  return (args: string[]) => bed.spawn(host, [Deno.execPath(), ...args], { stdin: "piped" });
}

/** Arguments of `ip` that run `cmd` inside `host`'s namespace. */
function inNamespace(host: BedHost, cmd: string[]): string[] {
  return ["netns", "exec", host.ns, ...cmd];
}

async function connectCase(options: BedOptions, label: string, stun: boolean) {
  const bed = await createBed({ ...options, stun });
  try {
    const client = bed.left;
    const server = bed.right;
    const ice = stun ? ["--stun-server", bed.stunServer] : ["--no-stun"];
    await using sshd = await startSshd({ wrap: ["ip", ...inNamespace(server, [])] });
    const echo = ManagedProcess.spawn("ip", {
      args: [
        "netns",
        "exec",
        server.ns,
        Deno.execPath(),
        "run",
        "--no-prompt",
        "--config",
        PROJECT_CONFIG,
        "--allow-net=127.0.0.1",
        `${HERE}_tcp_echo.ts`,
      ],
    });
    try {
      const echoLine = await echo.waitForLine(/^echo \d+$/, { timeoutMs: 20_000 });
      const echoPort = Number(echoLine.slice("echo ".length));
      const started = performance.now();
      await using ssh = startManualPair(
        spawner(bed, client),
        spawner(bed, server),
        TUNNEL_MAIN,
        PROJECT_CONFIG,
        [
          ...ice,
          "-s",
          `tcp://127.0.0.1:${sshd.port}`,
          "-t",
          "127.0.0.1:0",
        ],
        [...ice, "--allowed-tcp", "127.0.0.0/8"],
      );
      const port = Number(
        (await ssh.client.waitFor(/^Tunnel ready: 127\.0\.0\.1:(\d+)/, 45_000))[1],
      );
      const setupMs = performance.now() - (await ssh.offerPrintedAt);
      const type = (await ssh.client.waitFor(/^\s+Connection: (.+)$/, 1_000))[1];
      const remote = await runCommand("ip", {
        args: inNamespace(client, ["ssh", ...sshd.sshArgs(port), "echo", "hello-through-nat"]),
        timeoutMs: 30_000,
      });
      assert.equal(remote.code, 0, remote.stderr);
      assert.equal(remote.stdout.trim(), "hello-through-nat");

      await using bulk = startManualPair(
        spawner(bed, client),
        spawner(bed, server),
        TUNNEL_MAIN,
        PROJECT_CONFIG,
        [
          ...ice,
          "-s",
          `tcp://127.0.0.1:${echoPort}`,
          "-t",
          "127.0.0.1:0",
        ],
        [...ice, "--allowed-tcp", "127.0.0.0/8"],
      );
      const bulkPort = Number(
        (await bulk.client.waitFor(/^Tunnel ready: 127\.0\.0\.1:(\d+)/, 45_000))[1],
      );
      const transferMs = await transferInBed(client, bulkPort, SIZE);
      console.log(
        `RESULT | ${label} | connected | ${type} | setup ${setupMs.toFixed(0)} ms | 20 MB in ${
          transferMs.toFixed(0)
        } ms | total ${(performance.now() - started).toFixed(0)} ms`,
      );
    } finally {
      await echo.stop();
    }
  } finally {
    await bed.close();
  }
}

async function failCase(options: BedOptions, label: string) {
  const bed = await createBed(options);
  try {
    const ice = ["--stun-server", bed.stunServer];
    await using pair = startManualPair(
      spawner(bed, bed.left),
      spawner(bed, bed.right),
      TUNNEL_MAIN,
      PROJECT_CONFIG,
      [
        ...ice,
        "-s",
        "tcp://127.0.0.1:22",
        "-t",
        "127.0.0.1:0",
      ],
      [...ice, "--allowed-tcp", "127.0.0.0/8"],
    );
    const offerAt = await pair.offerPrintedAt;
    const [c, s] = await Promise.all([pair.client.process.status, pair.server.process.status]);
    const elapsed = performance.now() - offerAt;
    assert.notEqual(c.code, 0);
    assert.notEqual(s.code, 0);
    assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    for (const side of [pair.client, pair.server]) {
      const last = side.stderr.filter(Boolean).at(-1) ?? "";
      assert.match(last, /^Error: ICE found no working path/, side.stderr.join("\n"));
      assert.match(last, /symmetric/);
    }
    console.log(
      `RESULT | ${label} | failed cleanly | — | both exited ${
        (elapsed / 1000).toFixed(1)
      } s after the offer | | `,
    );
  } finally {
    await bed.close();
  }
}

const connecting: [BedOptions, string, boolean][] = [
  [{ left: "port-restricted", right: "same-lan" }, "same LAN, --no-stun", false],
  [{ left: "full-cone", right: "full-cone" }, "full cone x full cone", true],
  [
    { left: "port-restricted", right: "port-restricted" },
    "port-restricted x port-restricted",
    true,
  ],
  [{ left: "full-cone", right: "symmetric" }, "full cone x symmetric", true],
  [{ left: "symmetric", right: "full-cone" }, "symmetric x full cone", true],
  [{ left: "restricted-cone", right: "symmetric" }, "restricted cone x symmetric", true],
];
for (const [options, label, stun] of connecting) {
  Deno.test({
    name: `manual mode connects: ${label} (client left, server right)`,
    ignore: !support.ok,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => connectCase(options, label, stun),
  });
}

const failing: [BedOptions, string][] = [
  [{ left: "port-restricted", right: "symmetric" }, "port-restricted x symmetric"],
  [{ left: "symmetric", right: "symmetric" }, "symmetric x symmetric"],
];
for (const [options, label] of failing) {
  Deno.test({
    name: `manual mode fails cleanly within 30 s: ${label}`,
    ignore: !support.ok,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => failCase(options, label),
  });
}
