/**
 * Issue 25 for real, offline: `tunnel relay` behind an onion service of a private Tor network
 * (tests/netns/tor_network.ts: 3 authorities, 5 relays, the service and two clients in a
 * namespace with no way out), and a server and a client that are given only its `.onion` URL
 * and their own tor's SocksPort (`--socks5-proxy socks5h://...`). Relay-only, every byte goes
 * through Tor; with direct paths allowed, the session starts through Tor and moves to a direct
 * path. The onion service's tor is restarted mid-session: the client serves again.
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha3_256 } from "@noble/hashes/sha3.js";
import { runCli } from "../harness/mod.ts";
import { startTorNetwork, torNetworkUnsupported } from "./tor_network.ts";

/** A well-formed v3 onion address no service publishes (rend-spec-v3: key, checksum, version). */
function unpublishedOnion(): string {
  const key = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
  const version = Uint8Array.of(3);
  const checksum = sha3_256(
    new Uint8Array([...new TextEncoder().encode(".onion checksum"), ...key, ...version]),
  ).subarray(0, 2);
  const bytes = new Uint8Array([...key, ...checksum, ...version]);
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let text = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${text}.onion`;
}

const unsupported = torNetworkUnsupported();
if (unsupported) console.log(`skipping the Tor relay test: ${unsupported}`);
const SIZE = 5_000_000;

Deno.test({
  name:
    "Tor: server and client reach a relay behind an onion service through their SocksPorts; the service restarts mid-session",
  ignore: unsupported !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const relay = await startLocalRelay();
    await using _relay = relay.proc;
    const relayPort = Number(new URL(relay.url).port);
    const started = performance.now();
    const tor = await startTorNetwork({
      hiddenServices: [{ port: relayPort, virtualPort: 80 }],
      clients: 2,
    });
    console.log(`private Tor network up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    try {
      const onion = `http://${tor.onion(0)}/`;
      const proxy = (i: number) => {
        const { hostname, port } = tor.socks(i);
        return `socks5h://${hostname}:${port}`;
      };
      const token = generateToken();
      await using echo = startTcpEchoServer();

      await t.step(
        "relay-only: every byte through Tor, 5 MB checksummed; a restart is survived",
        async () => {
          await using server = await startServer({
            authTokens: token,
            extraArgs: ["--relay-url", onion, "--relay-only", "--socks5-proxy", proxy(0)],
            timeoutMs: 90_000,
          });
          const connecting = performance.now();
          await using client = await startClient({
            serverNodeId: server.endpointId,
            source: `tcp://127.0.0.1:${echo.port}`,
            authToken: token,
            extraArgs: ["--relay-url", onion, "--relay-only", "--socks5-proxy", proxy(1)],
            timeoutMs: 90_000,
          });
          console.log(
            `client ready through Tor in ${((performance.now() - connecting) / 1000).toFixed(1)} s`,
          );
          assert.ok(
            client.lines().some((line) => line.includes(`through relay ${onion}`)),
            client.lines().join("\n"),
          );
          const moved = performance.now();
          const first = await transferPayload(client.localPort, SIZE);
          assert.equal(first.received.sha256, first.sent.sha256);
          const seconds = (performance.now() - moved) / 1000;
          console.log(`${SIZE} B echoed through Tor in ${seconds.toFixed(1)} s`);

          const restarting = performance.now();
          await tor.restartHiddenService(0, { probe: false });
          // The client keeps its local port; the session (or the next one) carries bytes again.
          const deadline = Date.now() + 120_000;
          for (;;) {
            try {
              const again = await transferPayload(client.localPort, 256 << 10);
              assert.equal(again.received.sha256, again.sent.sha256);
              break;
            } catch (error) {
              if (Date.now() > deadline) throw error;
              await new Promise((resolve) => setTimeout(resolve, 1_000));
            }
          }
          console.log(
            `serving again ${
              ((performance.now() - restarting) / 1000).toFixed(1)
            } s after the restart began`,
          );
        },
      );

      await t.step(
        "an onion nobody serves: the client says so in one line, in bounded time",
        async () => {
          const started = performance.now();
          const result = await runCli([
            "client",
            "--server-node-id",
            "2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga",
            "--source",
            `tcp://127.0.0.1:${echo.port}`,
            "--target",
            "127.0.0.1:0",
            "--auth-token",
            token,
            "--relay-url",
            `http://${unpublishedOnion()}/`,
            "--socks5-proxy",
            proxy(1),
            "--relay-only",
            "--no-reconnect",
          ], { timeoutMs: 120_000 });
          const seconds = (performance.now() - started) / 1000;
          console.log(
            `unpublished onion: exit ${result.code} after ${
              seconds.toFixed(1)
            } s: ${result.stderr.trim()}`,
          );
          assert.equal(result.code, 1, result.stderr);
          assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
          assert.match(result.stderr, /\.onion/);
          assert.ok(seconds < 60, `${seconds} s`);
        },
      );

      await t.step(
        "direct paths allowed: the session starts through Tor, then goes direct",
        async () => {
          await using server = await startServer({
            authTokens: token,
            extraArgs: ["--relay-url", onion, "--socks5-proxy", proxy(0)],
            timeoutMs: 90_000,
          });
          await using client = await startClient({
            serverNodeId: server.endpointId,
            source: `tcp://127.0.0.1:${echo.port}`,
            authToken: token,
            extraArgs: ["--relay-url", onion, "--socks5-proxy", proxy(1)],
            timeoutMs: 90_000,
          });
          const result = await transferPayload(client.localPort, SIZE);
          assert.equal(result.received.sha256, result.sent.sha256);
          const deadline = Date.now() + 30_000;
          while (!client.lines().some((line) => /^path: direct /.test(line))) {
            if (Date.now() > deadline) assert.fail(client.lines().join("\n"));
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        },
      );
    } finally {
      await tor.stop();
    }
  },
});
