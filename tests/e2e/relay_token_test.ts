// A relay that wants an access token (`tunnel relay --access-token`): servers
// and clients pass it with --relay-token, --relay-token-file,
// TUNNEL_RELAY_TOKEN or relay_token, and it shows up nowhere: not in their
// output, their status view, or the discovery record anyone can read.
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { endpointIdToZ32, resolveRecord } from "../../core/discovery/mod.ts";
import { EndpointId, SecretKey } from "../../core/identity/mod.ts";
import {
  runCli,
  startClient,
  startLocalRelay,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

/** A token no other output could hold by chance. */
const relayToken = () => `relay-${crypto.randomUUID()}`;

/** GETs `/status` of the view a process announced with `Status: tunnel status HOST:PORT`. */
async function statusOf(lines: string[]): Promise<string> {
  const line = lines.find((l) => l.startsWith("Status: tunnel status "));
  assert.ok(line, lines.join("\n"));
  const response = await fetch(`http://${line.slice("Status: tunnel status ".length)}/status`);
  return await response.text();
}

/** Forwards a little TCP, then checks that nothing the processes show holds `token`. */
async function forwardAndCheck(
  relayUrl: string,
  token: string,
  server: Awaited<ReturnType<typeof startServer>>,
  client: Awaited<ReturnType<typeof startClient>>,
) {
  const { sent, received } = await transferPayload(client.localPort, 256 << 10);
  assert.equal(received.sha256, sent.sha256);
  assert.ok(client.lines().some((l) => l.includes(`through relay ${relayUrl}`)), client.lines()[0]);

  const shown = [
    ...server.lines(),
    server.stderr(),
    ...client.lines(),
    client.stderr(),
    await statusOf(server.lines()),
    await statusOf(client.lines()),
  ].join("\n");
  assert.ok(!shown.includes(token), "the relay token was printed");

  // The record as anyone reads it: one GET, no token needed.
  const id = EndpointId.parse(server.endpointId);
  const raw = await fetch(`${relayUrl}pkarr/${endpointIdToZ32(id)}`);
  assert.equal(raw.status, 200);
  const bytes = new Uint8Array(await raw.arrayBuffer());
  assert.ok(!new TextDecoder("latin1").decode(bytes).includes(token), "token in the record");
  const record = await resolveRecord(id, { relayUrl: `${relayUrl}pkarr` });
  assert.deepEqual(record?.relayUrls, [relayUrl]);
}

Deno.test("relay token by --relay-token-file and --relay-token: TCP over the relay, shown nowhere", async () => {
  const token = relayToken();
  const relay = await startLocalRelay(["--access-token", token]);
  await using _relay = relay.proc;
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/relay.token`;
    await Deno.writeTextFile(file, `${token}\n`);
    const authToken = generateToken();
    await using echo = startTcpEchoServer();
    await using server = await startServer({
      authTokens: authToken,
      readPaths: [file],
      extraArgs: [
        ...["--relay-url", relay.url, "--relay-only", "--relay-token-file", file],
        ...["--dns-server", `${relay.url}pkarr`, "--status", "127.0.0.1:0", "-v"],
      ],
    });
    await using client = await startClient({
      serverNodeId: server.endpointId,
      source: `tcp://127.0.0.1:${echo.port}`,
      authToken,
      extraArgs: [
        ...["--relay-url", relay.url, "--relay-only", "--relay-token", token],
        ...["--status", "127.0.0.1:0", "-v"],
      ],
    });
    await forwardAndCheck(relay.url, token, server, client);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("relay token by the config file and TUNNEL_RELAY_TOKEN: TCP over the relay, shown nowhere", async () => {
  const token = relayToken();
  const relay = await startLocalRelay(["--access-token", token]);
  await using _relay = relay.proc;
  const dir = await Deno.makeTempDir();
  try {
    const config = `${dir}/server.toml`;
    await Deno.writeTextFile(
      config,
      `role = "server"\n[iroh]\nrelay_urls = ["${relay.url}"]\nrelay_token = "${token}"\n`,
    );
    const authToken = generateToken();
    await using echo = startTcpEchoServer();
    await using server = await startServer({
      authTokens: authToken,
      readPaths: [config],
      extraArgs: [
        ...["-c", config, "--relay-only", "--dns-server", `${relay.url}pkarr`],
        ...["--status", "127.0.0.1:0", "-v"],
      ],
    });
    await using client = await startClient({
      serverNodeId: server.endpointId,
      source: `tcp://127.0.0.1:${echo.port}`,
      authToken,
      env: { TUNNEL_RELAY_TOKEN: token },
      extraArgs: ["--relay-url", relay.url, "--relay-only", "--status", "127.0.0.1:0", "-v"],
    });
    await forwardAndCheck(relay.url, token, server, client);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a relay that refuses the token: one line naming the relay and the flag, exit 1, no retry", async () => {
  const token = relayToken();
  const wrong = relayToken();
  const relay = await startLocalRelay(["--access-token", token]);
  await using _relay = relay.proc;
  const authToken = generateToken();
  const refusedLine = (stderr: string) => {
    // The server's fresh-identity warning comes first; the refusal is the one error line.
    const lines = stderr.trim().split("\n").filter((l) => !l.startsWith("warning: no --secret"));
    assert.equal(lines.length, 1, stderr);
    assert.ok(!stderr.includes(wrong) && !stderr.includes(token), "a token was printed");
    return lines[0];
  };

  const server = await runCli([
    ...["server", "--auth-tokens", authToken, "--allowed-tcp", "127.0.0.0/8", "--no-dns"],
    ...["--relay-url", relay.url, "--relay-only", "--relay-token", wrong],
  ]);
  assert.equal(server.code, 1, server.stderr);
  // The reason is the relay's own words; the line around it is ours.
  const escaped = relay.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.match(
    refusedLine(server.stderr),
    new RegExp(
      `^Error: The relay ${escaped} refused the relay token: .+ ` +
        "\\(check --relay-token or --relay-token-file, TUNNEL_RELAY_TOKEN or 'relay_token'\\)$",
    ),
  );

  await using up = await startServer({
    authTokens: authToken,
    extraArgs: ["--relay-url", relay.url, "--relay-only", "--relay-token", token],
  });
  const client = (extra: string[]) =>
    runCli([
      ...["client", "--server-node-id", up.endpointId, "--auth-token", authToken, "--no-dns"],
      ...["--source", "tcp://127.0.0.1:22", "--target", "127.0.0.1:0"],
      ...["--relay-url", relay.url, "--relay-only", ...extra],
    ]);
  const wrongToken = await client(["--relay-token", wrong]);
  assert.equal(wrongToken.code, 1, wrongToken.stderr);
  assert.match(
    refusedLine(wrongToken.stderr),
    new RegExp(`^Error: The relay ${escaped} refused the relay token: `),
  );
  const noToken = await client([]);
  assert.equal(noToken.code, 1, noToken.stderr);
  assert.match(
    refusedLine(noToken.stderr),
    /refused this client: .+ \(if it wants an access token, pass it with --relay-token or --relay-token-file\)$/,
  );
});

Deno.test("a relay URL carrying credentials is refused with one line naming --relay-token", async () => {
  const authToken = generateToken();
  const url = "http://127.0.0.1:9/?token=leaked-secret";
  const serverId = SecretKey.generate().endpointId.toString();
  const commands = [
    ["server", "--auth-tokens", authToken, "--allowed-tcp", "127.0.0.0/8"],
    [
      "client",
      "--server-node-id",
      serverId,
      "--auth-token",
      authToken,
      "-s",
      "tcp://127.0.0.1:22",
      "-t",
      "127.0.0.1:0",
    ],
    ["vpn", "server", "--auth-tokens", authToken],
    ["vpn", "client", "--server-node-id", serverId, "--auth-token", authToken],
  ];
  for (const command of commands) {
    const result = await runCli([...command, "--relay-url", url, "--no-dns"]);
    assert.equal(result.code, 2, `${command[0]}: ${result.stderr}`);
    const lines = result.stderr.trim().split("\n");
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0],
      /^Error: --relay-url must not carry credentials \(found \?token=\): pass the token with --relay-token or --relay-token-file/,
    );
    assert.ok(!result.stderr.includes("leaked-secret"));
  }
});
