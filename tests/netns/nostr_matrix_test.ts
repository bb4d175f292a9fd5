/**
 * nostr mode through real NATs: a Nostr relay on the public segment carries the
 * signaling, a `tunnel server nostr` on the right host and a `tunnel client nostr`
 * on the left one punch through with coturn's STUN. Port-restricted on both sides
 * connects and carries SSH and a 20 MB checksummed transfer; symmetric on both
 * sides has no direct path: the client fails cleanly within 30 s of its start and
 * the server stays up. Prints one RESULT line per case (docs/NAT_MATRIX.md).
 */
import assert from "node:assert/strict";
import { NostrSecretKey } from "../../core/nostr/mod.ts";
import {
  type ManagedProcess,
  type NostrRelayFixture,
  runCommand,
  startNostrRelay,
  startSshd,
  tunnelCommandArgs,
} from "../harness/mod.ts";
import { type Bed, type BedOptions, canBuildBeds, createBed } from "./mod.ts";
import { inNamespace, spawnIn, startBedEcho, transferInBed } from "./tunnels_in_bed.ts";

const support = await canBuildBeds();
if (!support.ok) console.log(`skipping nostr-mode NAT matrix: ${support.reason}`);
/** The public host's first address: the relay listens there. */
const RELAY_HOST = "198.51.100.1";
const SIZE = 20_000_000;
const READY_LINE = /^Tunnel ready: 127\.0\.0\.1:(\d+)/;
// The client's whole attempt is bounded by 25 s (cli/commands/client_nostr.ts); the
// brief allows 30 s from its start, which leaves room for Deno's own start-up.
const FAIL_WITHIN_MS = 30_000;

/** A bed with the relay on the public segment and a nostr server on the right host. */
interface NostrBed extends AsyncDisposable {
  bed: Bed;
  relay: NostrRelayFixture;
  server: ManagedProcess;
  serverKey: NostrSecretKey;
  clientKey: NostrSecretKey;
  /** Spawns a nostr client on the left host asking for `source`. */
  startClient(source: string): ManagedProcess;
}

async function nostrBed(options: BedOptions): Promise<NostrBed> {
  const bed = await createBed(options);
  const cleanups: (() => Promise<unknown>)[] = [() => bed.close()];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    const relay = await startNostrRelay({
      hostname: RELAY_HOST,
      wrap: ["ip", ...inNamespace(bed.publicHost.ns, [])],
    });
    cleanups.push(() => relay.stop());
    const ice = ["--stun-server", bed.stunServer, "--relay", relay.url];
    const serverKey = NostrSecretKey.generate();
    const clientKey = NostrSecretKey.generate();
    const server = spawnIn(bed.right.ns, [
      Deno.execPath(),
      ...tunnelCommandArgs([
        "server",
        "nostr",
        "--nsec",
        serverKey.nsec,
        "--peer-npub",
        clientKey.publicKey.npub,
        "--allowed-tcp",
        "127.0.0.0/8",
        ...ice,
      ]),
    ]);
    cleanups.push(() => server.stop());
    await server.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    const startClient = (source: string) => {
      const client = spawnIn(bed.left.ns, [
        Deno.execPath(),
        ...tunnelCommandArgs([
          "client",
          "nostr",
          "--nsec",
          clientKey.nsec,
          "--peer-npub",
          serverKey.publicKey.npub,
          "-s",
          source,
          "-t",
          "127.0.0.1:0",
          ...ice,
        ]),
      ]);
      cleanups.push(() => client.stop());
      return client;
    };
    return { bed, relay, server, serverKey, clientKey, startClient, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function connectCase(options: BedOptions, label: string) {
  await using run = await nostrBed(options);
  const { bed } = run;
  await using sshd = await startSshd({ wrap: ["ip", ...inNamespace(bed.right.ns, [])] });
  const echo = await startBedEcho(bed.right);
  try {
    const started = performance.now();
    const ssh = run.startClient(`tcp://127.0.0.1:${sshd.port}`);
    const ready = await ssh.waitForLine(READY_LINE, { stream: "stdout", timeoutMs: 45_000 });
    const setupMs = performance.now() - started;
    const port = Number(READY_LINE.exec(ready)![1]);
    const type = ssh.lines("stdout").map((l) => /^\s+Connection: (.+)$/.exec(l)?.[1]).find(
      Boolean,
    ) ?? "?";
    const remote = await runCommand("ip", {
      args: inNamespace(bed.left.ns, ["ssh", ...sshd.sshArgs(port), "echo", "hello-over-nostr"]),
      timeoutMs: 30_000,
    });
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout.trim(), "hello-over-nostr");

    const bulk = run.startClient(`tcp://127.0.0.1:${echo.port}`);
    const bulkReady = await bulk.waitForLine(READY_LINE, { stream: "stdout", timeoutMs: 45_000 });
    const transferMs = await transferInBed(bed.left, Number(READY_LINE.exec(bulkReady)![1]), SIZE);
    console.log(
      `RESULT | nostr | ${label} | connected | ${type} | setup ${setupMs.toFixed(0)} ms | ` +
        `20 MB in ${transferMs.toFixed(0)} ms | total ${
          (performance.now() - started).toFixed(0)
        } ms`,
    );
  } finally {
    await echo.proc.stop();
  }
}

async function failCase(options: BedOptions, label: string) {
  await using run = await nostrBed(options);
  const started = performance.now();
  const client = run.startClient("tcp://127.0.0.1:22");
  const status = await client.process.status;
  const elapsed = performance.now() - started;
  const stderr = client.lines("stderr").filter(Boolean);
  assert.notEqual(status.code, 0);
  assert.ok(elapsed < FAIL_WITHIN_MS, `took ${elapsed.toFixed(0)} ms`);
  assert.equal(stderr.length, 1, stderr.join("\n"));
  assert.match(stderr[0], /^Error: ICE found no working path to the peer/);
  // The server reports the session and goes on waiting for the next.
  await run.server.waitForLine(/^\[session 1\] no connection: /, { timeoutMs: 10_000 });
  assert.equal(run.server.lines("stderr").filter(Boolean).length, 0, run.server.stderrText());
  const serverUp = await Promise.race([
    run.server.process.status.then(() => false),
    new Promise<true>((resolve) => setTimeout(() => resolve(true), 500)),
  ]);
  assert.ok(serverUp, `server exited:\n${run.server.stderrText()}`);
  const detail = /^Error: ICE found no working path to the peer \(([^)]*)\)/.exec(stderr[0])?.[1];
  console.log(
    `RESULT | nostr | ${label} | failed cleanly | — | client exited ${status.code} ` +
      `${(elapsed / 1000).toFixed(1)} s after its start (${detail}), server up | | `,
  );
}

Deno.test({
  name: "nostr mode connects: port-restricted x port-restricted (client left, server right)",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    connectCase(
      { left: "port-restricted", right: "port-restricted" },
      "port-restricted x port-restricted",
    ),
});

Deno.test({
  name: "nostr mode fails cleanly within 30 s: symmetric x symmetric, the server stays up",
  ignore: !support.ok,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => failCase({ left: "symmetric", right: "symmetric" }, "symmetric x symmetric"),
});
