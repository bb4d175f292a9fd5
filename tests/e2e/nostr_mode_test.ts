// nostr mode against a real Nostr relay on loopback (tests/harness/nostr_relay.ts):
// a transfer through the tunnel; two clients at once and a third refused by
// --max-sessions 2 with the reason printed; one of two relays dead from the start;
// requests replayed after a restart, or never followed by an answer, hold no slot.
import assert from "node:assert/strict";
import {
  ANSWER_TIMEOUT_MS,
  newSessionId,
  type NostrEvent,
  NostrRelaySet,
  NostrSecretKey,
  openSignal,
  sealSignal,
  SIGNAL_KIND,
} from "../../core/nostr/mod.ts";
import { delay } from "../harness/_timeout.ts";
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

/**
 * A Nostr client of the test's own on `url` (the project's relay set, a plain
 * NIP-01 client): records every event `author` publishes, and publishes events
 * as anyone who has them could, a hostile relay or an eavesdropper.
 */
async function openEavesdropper(url: string, author: NostrSecretKey) {
  const recorded: NostrEvent[] = [];
  const relays = NostrRelaySet.open({
    urls: [url],
    filter: { kinds: [SIGNAL_KIND], authors: [author.publicKey.hex] },
    onEvent: (event) => {
      if (!recorded.some((e) => e.id === event.id)) recorded.push(event);
    },
  });
  await relays.ready(10_000);
  return {
    recorded,
    publish: (event: NostrEvent) => assert.equal(relays.publish(event), 1),
    [Symbol.dispose]: () => relays.close(),
  };
}

Deno.test({
  name: "nostr mode: requests replayed after the server restarted start no session",
  // The eavesdropper's WebSocket closes without waiting for the relay's close frame.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // A relay takes each event id once, so the replay goes through a relay that
    // has not seen it (anyone can publish a signed event anywhere; a hostile
    // relay would just send it again): the restarted server and the fresh
    // client use that one.
    await using seen = await startNostrRelay();
    await using other = await startNostrRelay();
    await using echo = startTcpEchoServer();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    using eavesdropper = await openEavesdropper(seen.url, client);
    using replayer = await openEavesdropper(other.url, client);
    const limit = ["--max-sessions", "1", "-v"];
    const before = startServer(server, client, [seen.url], limit);
    await before.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    const first = startClient(client, server, [seen.url], echo.port);
    await readyPort(first);
    await first.stop();
    await before.stop();
    const requests = eavesdropper.recorded.filter((event) => {
      const message = openSignal(server, client.publicKey, event);
      return "type" in message && message.type === "request";
    });
    assert.ok(requests.length >= 1, "the client's request was seen on the relay");

    await using after = startServer(server, client, [other.url], limit);
    await after.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    // Seconds old, well within the 30 s an event is accepted for: only the
    // restart tells them from a live client's.
    for (const event of eavesdropper.recorded) replayer.publish(event);
    await after.waitForLine(/ignored: a request from before this server started/, {
      timeoutMs: 10_000,
    });
    await delay(1_000);
    // The only slot is free: a live client gets it at once.
    await using fresh = startClient(client, server, [other.url], echo.port);
    const { sent, received } = await transferPayload(await readyPort(fresh), 1 << 16);
    assert.equal(received.sha256, sent.sha256);
    const sessionLines = after.lines().filter((line) => /^\[session /.test(line));
    assert.ok(
      sessionLines.every((line) => line.startsWith("[session 1]")),
      `one session, the fresh client's:\n${sessionLines.join("\n")}`,
    );
  },
});

Deno.test({
  name: "nostr mode: a request whose client never answers frees its slot",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using relay = await startNostrRelay();
    await using echo = startTcpEchoServer();
    const server = NostrSecretKey.generate();
    const client = NostrSecretKey.generate();
    using eavesdropper = await openEavesdropper(relay.url, client);
    await using tunnelServer = startServer(server, client, [relay.url], [
      "--max-sessions",
      "1",
      "-v",
    ]);
    await tunnelServer.waitForLine(/^Waiting for /, { timeoutMs: 20_000 });
    // A client that asks once and is gone (crashed, or lost its network). A
    // request made in the second the server started is taken at its next copy,
    // and this one has none: it is made in the next second.
    await delay(1_000);
    eavesdropper.publish(sealSignal(client, server.publicKey, {
      type: "request",
      session: newSessionId(),
      source: `tcp://127.0.0.1:${echo.port}`,
    }));
    await tunnelServer.waitForLine(/^\[session 1\] no connection: the client did not answer/, {
      timeoutMs: ANSWER_TIMEOUT_MS + 10_000,
    });
    await using fresh = startClient(client, server, [relay.url], echo.port);
    const { sent, received } = await transferPayload(await readyPort(fresh), 1 << 16);
    assert.equal(received.sha256, sent.sha256);
  },
});
