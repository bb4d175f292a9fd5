// nostr mode against a real Nostr relay on loopback (tests/harness/nostr_relay.ts):
// a transfer through the tunnel; two clients at once and a third refused by
// --max-sessions 2 with the reason printed; one of two relays dead from the start.
import assert from "node:assert/strict";
import { NostrSecretKey } from "../../core/nostr/mod.ts";
import { haveProgram } from "./_fixtures.ts";
import {
  ManagedProcess,
  runCommand,
  startNostrRelay,
  startSshd,
  startTcpEchoServer,
  transferPayload,
  tunnelCommandArgs,
} from "../harness/mod.ts";

const LOOPBACK_ICE = ["--host-candidate", "127.0.0.1", "--no-stun"];
const DEAD_RELAY = "ws://127.0.0.1:1";

function startServer(
  server: NostrSecretKey,
  client: NostrSecretKey,
  relays: string[],
  extra: string[] = [],
) {
  return ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "server",
      "nostr",
      "--nsec",
      server.nsec,
      "--peer-npub",
      client.publicKey.npub,
      "--allowed-tcp",
      "127.0.0.0/8",
      ...relays.flatMap((url) => ["--relay", url]),
      ...LOOPBACK_ICE,
      ...extra,
    ]),
  });
}

function startClient(
  client: NostrSecretKey,
  server: NostrSecretKey,
  relays: string[],
  port: number,
) {
  return ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "client",
      "nostr",
      "--nsec",
      client.nsec,
      "--peer-npub",
      server.publicKey.npub,
      "-s",
      `tcp://127.0.0.1:${port}`,
      "-t",
      "127.0.0.1:0",
      ...relays.flatMap((url) => ["--relay", url]),
      ...LOOPBACK_ICE,
    ]),
  });
}

async function readyPort(proc: ManagedProcess): Promise<number> {
  const line = await proc.waitForLine(/^Tunnel ready: 127\.0\.0\.1:\d+/, {
    stream: "stdout",
    timeoutMs: 30_000,
  });
  return Number(/:(\d+) ->/.exec(line)![1]);
}

Deno.test("nostr mode: a transfer, two sessions at once, a third refused by --max-sessions 2", async () => {
  await using relay = await startNostrRelay();
  await using echo = startTcpEchoServer();
  const server = NostrSecretKey.generate();
  const client = NostrSecretKey.generate();
  // One relay is dead from the start: signaling goes through the other.
  const relays = [DEAD_RELAY, relay.url];
  await using tunnelServer = startServer(server, client, relays, ["--max-sessions", "2"]);
  await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
  await using first = startClient(client, server, relays, echo.port);
  await using second = startClient(client, server, relays, echo.port);
  const [a, b] = await Promise.all([readyPort(first), readyPort(second)]);
  for (const port of [a, b]) {
    const { sent, received } = await transferPayload(port, 1 << 20);
    assert.equal(received.sha256, sent.sha256);
  }
  await using third = startClient(client, server, relays, echo.port);
  const refusal = await third.waitForLine(/^Error: /, { stream: "stderr", timeoutMs: 30_000 });
  assert.match(refusal, /server is at its session limit \(2\)/);
  assert.equal((await third.process.status).code, 1);
});

const isRoot =
  new TextDecoder().decode(new Deno.Command("id", { args: ["-u"] }).outputSync().stdout)
    .trim() === "0";
const canRunSshd = haveProgram("sshd") && haveProgram("ssh") && isRoot;

Deno.test({
  name: "nostr mode: SSH through the tunnel runs a remote command",
  ignore: !canRunSshd,
  async fn() {
    await using relay = await startNostrRelay();
    await using sshd = await startSshd();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    await using tunnelServer = startServer(server, client, [relay.url]);
    await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    await using tunnelClient = startClient(client, server, [relay.url], sshd.port);
    const port = await readyPort(tunnelClient);
    const remote = await runCommand("ssh", {
      args: [...sshd.sshArgs(port), "echo", "through-nostr"],
      timeoutMs: 30_000,
    });
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal(remote.stdout.trim(), "through-nostr");
  },
});
