// `--socks5-proxy` at the command line, against proxies that must be refused: OpenSSH's `ssh -D`
// (a real SOCKS5 proxy that is not Tor), a closed port, and the flag's wrong combinations. Each
// is one line and exit status 1 or 2 before any relay is contacted. The working case, through a
// private Tor network to a relay behind an onion service, is tests/netns/tor_relay_test.ts.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { freePort, ManagedProcess, runCli, startSshd, waitForTcpListener } from "../harness/mod.ts";
import { haveProgram } from "./_fixtures.ts";

const ONION = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/";
const SERVER = ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens", generateToken()];

function assertOneLine(result: { code: number; stderr: string }, code: number, message: RegExp) {
  assert.equal(result.code, code, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], message);
}

Deno.test({
  name: "--socks5-proxy: ssh -D is not Tor, and the server stops with one line",
  ignore: !haveProgram("sshd") || !haveProgram("ssh"),
  async fn() {
    await using sshd = await startSshd();
    const socksPort = freePort();
    await using _ssh = ManagedProcess.spawn("ssh", {
      args: ["-N", "-D", `127.0.0.1:${socksPort}`, ...sshd.sshArgs()],
      stopSignal: "SIGTERM",
    });
    await waitForTcpListener(socksPort, { timeoutMs: 15_000 });
    const result = await runCli([
      ...SERVER,
      "--relay-url",
      ONION,
      "--socks5-proxy",
      `socks5h://127.0.0.1:${socksPort}`,
      "--no-port-mapping",
    ], { timeoutMs: 40_000 });
    assertOneLine(result, 1, /^Error: --socks5-proxy 127\.0\.0\.1:\d+ is not usable: .*/);
  },
});

Deno.test("--socks5-proxy: a closed port, and every wrong combination, are one line", async () => {
  const closed = freePort();
  const client = [
    "client",
    "--server-node-id",
    "2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga",
    "--source",
    "tcp://127.0.0.1:22",
    "--target",
    "127.0.0.1:0",
    "--auth-token",
    generateToken(),
  ];
  assertOneLine(
    await runCli([
      ...client,
      "--relay-url",
      ONION,
      "--socks5-proxy",
      `socks5h://127.0.0.1:${closed}`,
    ]),
    1,
    /^Error: --socks5-proxy 127\.0\.0\.1:\d+ is not usable: /,
  );
  const wrong: [string[], RegExp][] = [
    [["--relay-url", ONION, "--socks5-proxy", "socks5://127.0.0.1:9050"], /use socks5h:\/\//],
    [["--socks5-proxy", "socks5h://127.0.0.1:9050"], /only \.onion relays/],
    [
      ["--relay-url", "http://127.0.0.1:3340/", "--socks5-proxy", "socks5h://127.0.0.1:9050"],
      /is not one/,
    ],
    [
      ["--relay-url", ONION, "--socks5-proxy", "socks5h://127.0.0.1:9050", "--dht"],
      /or the DHT/,
    ],
    [["--relay-url", ONION], /is a Tor onion service: pass --socks5-proxy/],
  ];
  for (const [args, message] of wrong) {
    assertOneLine(await runCli([...client, ...args]), 2, message);
  }
});
