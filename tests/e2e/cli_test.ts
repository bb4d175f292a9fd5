import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  runCli,
  startClient,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

Deno.test("generate-token -c 5 prints five distinct valid tokens", async () => {
  const result = await runCli(["generate-token", "-c", "5"]);
  assert.equal(result.code, 0);
  const tokens = result.stdout.trim().split("\n");
  assert.equal(new Set(tokens).size, 5);
  for (const t of tokens) assert.match(t, /^i[A-Za-z0-9_-]{16}[A-Za-z0-9_.-]$/);
});

Deno.test("generate-server-key writes 0600, refuses to overwrite, and show-server-id agrees", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/server.key`;
    const write = ["--allow-write=" + dir];
    const made = await runCli(["generate-server-key", "--output", path], {
      readPaths: [dir],
      denoFlags: write,
    });
    assert.equal(made.code, 0, made.stderr);
    const id = /^EndpointId: ([a-z2-7]{52})$/m.exec(made.stdout)?.[1];
    assert.ok(id, made.stdout);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const again = await runCli(["generate-server-key", "--output", path], {
      readPaths: [dir],
      denoFlags: write,
    });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists \(use --force to overwrite\)/);
    const forced = await runCli(["generate-server-key", "--output", path, "--force"], {
      readPaths: [dir],
      denoFlags: write,
    });
    assert.equal(forced.code, 0);
    const shown = await runCli(["show-server-id", "--secret-file", path], { readPaths: [path] });
    assert.equal(shown.stdout.trim(), forced.stdout.trim());
    assert.notEqual(forced.stdout.trim(), made.stdout.trim());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input ends with one Error line and a non-zero exit, never a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.key`, "not a key");
    await Deno.writeTextFile(`${dir}/tokens.txt`, `# ok\n${generateToken()}\nioops\n`);
    await Deno.writeTextFile(`${dir}/bad.toml`, 'role = "server"\n[iroh]\nmax_sesions = 1\n');
    const token = generateToken();
    const cases: [string[], RegExp][] = [
      [
        ["server", "--allowed-tcp", "10.0.0.0/33", "--auth-tokens", token],
        /Invalid CIDR '10\.0\.0\.0\/33'/,
      ],
      [["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens", "nope"], /Invalid auth token/],
      [
        ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens-file", `${dir}/tokens.txt`],
        /tokens\.txt:3: Invalid auth token/,
      ],
      [[
        "server",
        "--allowed-tcp",
        "127.0.0.0/8",
        "--auth-tokens",
        token,
        "--secret-file",
        `${dir}/bad.key`,
      ], /Invalid secret key file/],
      [[
        "server",
        "--allowed-tcp",
        "127.0.0.0/8",
        "--auth-tokens",
        token,
        "--secret-file",
        `${dir}/none.key`,
      ], /Cannot read secret key file/],
      [
        ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens", token, "--secret", "abc"],
        /Invalid secret key/,
      ],
      [["server", "-c", `${dir}/bad.toml`], /unknown key 'iroh\.max_sesions'/],
      [
        ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens", token, "--max-sessions", "0"],
        /--max-sessions/,
      ],
      [["server", "--bogus"], /Unknown option '--bogus'/],
      [[
        "client",
        "-n",
        "xyz",
        "-s",
        "tcp://h:1",
        "-t",
        "127.0.0.1:0",
        "--auth-token",
        token,
        "--server-addr",
        "127.0.0.1:9",
      ], /Invalid EndpointId/],
      [[
        "client",
        "-n",
        "a".repeat(52),
        "-s",
        "ftp://h:1",
        "-t",
        "127.0.0.1:0",
        "--auth-token",
        token,
        "--server-addr",
        "127.0.0.1:9",
      ], /Invalid source 'ftp:\/\/h:1'/],
      [[
        "client",
        "-n",
        "a".repeat(52),
        "-s",
        "tcp://h:1",
        "-t",
        "2222",
        "--auth-token",
        token,
        "--server-addr",
        "127.0.0.1:9",
      ], /Invalid --target address/],
    ];
    for (const [args, pattern] of cases) {
      const result = await runCli(args, { readPaths: [dir] });
      assert.notEqual(result.code, 0, args.join(" "));
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${args.join(" ")}:\n${result.stderr}`);
      assert.match(lines[0], /^Error: /);
      assert.match(lines[0], pattern);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A client pointed at a port where no server listens. */
function clientOfNoServer(target: string) {
  return runCli([
    "client",
    "-n",
    "a".repeat(52),
    "--server-addr",
    "127.0.0.1:9",
    "-s",
    "tcp://127.0.0.1:22",
    "-t",
    target,
    "--auth-token",
    generateToken(),
  ]);
}

Deno.test("a port in use and an unreachable server are one clear line each", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = busy.addr.port;
    const client = await clientOfNoServer(`127.0.0.1:${port}`);
    assert.notEqual(client.code, 0);
    assert.match(
      client.stderr.trim(),
      /^Error: Cannot listen on 127\.0\.0\.1:\d+ \(tcp\): address already in use/,
    );
  } finally {
    busy.close();
  }
  const unreachable = await clientOfNoServer("127.0.0.1:0");
  assert.match(
    unreachable.stderr.trim(),
    /^Error: Cannot reach the server \(127\.0\.0\.1:9: no answer \(timed out\)\)/,
  );
  const udpBusy = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const result = await runCli([
      "server",
      "--bind",
      `127.0.0.1:${(udpBusy.addr as Deno.NetAddr).port}`,
      "--allowed-tcp",
      "127.0.0.0/8",
      "--auth-tokens",
      generateToken(),
    ]);
    assert.match(
      result.stderr.trim(),
      /^Error: Cannot listen on 127\.0\.0\.1:\d+: address already in use$/,
    );
  } finally {
    udpBusy.close();
  }
});

Deno.test("a config file round trip, with CLI flags overriding it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using echo = startTcpEchoServer();
    const token = generateToken();
    const made = await runCli(["generate-server-key", "--output", `${dir}/server.key`], {
      readPaths: [dir],
      denoFlags: ["--allow-write=" + dir],
    });
    const id = /EndpointId: (\S+)/.exec(made.stdout)![1];
    await Deno.writeTextFile(`${dir}/tokens.txt`, `# alice\n${token}\n`);
    await Deno.writeTextFile(
      `${dir}/server.toml`,
      `role = "server"\nmode = "iroh"\n\n[iroh]\nsecret_file = "server.key"\nauth_tokens_file = "tokens.txt"\nbind = "127.0.0.1:0"\nmax_sessions = 5\n\n[iroh.allowed_sources]\ntcp = ["10.0.0.0/8"]\n`,
    );
    // The file allows only 10.0.0.0/8; the flag replaces that with loopback.
    await using server = await startServer({
      authTokens: [],
      allowedTcp: [],
      allowedUdp: [],
      readPaths: [dir],
      extraArgs: ["-c", `${dir}/server.toml`, "--allowed-tcp", "127.0.0.0/8"],
    });
    assert.equal(server.endpointId, id);
    await Deno.writeTextFile(
      `${dir}/client.toml`,
      `role = "client"\nmode = "iroh"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["${server.addr}"]\nrequest_source = "tcp://127.0.0.1:${echo.port}"\ntarget = "127.0.0.1:1"\nauth_token = "${token}"\n`,
    );
    await using client = await startClient({
      serverNodeId: id,
      source: `tcp://127.0.0.1:${echo.port}`,
      readPaths: [dir],
      extraArgs: ["-c", `${dir}/client.toml`],
    });
    const { sent, received } = await transferPayload(client.localPort, 1_000_000);
    assert.equal(received.sha256, sent.sha256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Ctrl-C shuts client and server down cleanly with exit 0", async () => {
  await using echo = startTcpEchoServer();
  const token = generateToken();
  const server = await startServer({ authTokens: token, bind: "127.0.0.1:0" });
  const client = await startClient({
    serverNodeId: server.endpointId,
    serverAddr: server.addr,
    source: `tcp://127.0.0.1:${echo.port}`,
    authToken: token,
  });
  const { sent, received } = await transferPayload(client.localPort, 100_000);
  assert.equal(received.sha256, sent.sha256);
  const clientStatus = await client.stop();
  const serverStatus = await server.stop();
  assert.equal(clientStatus.code, 0);
  assert.equal(serverStatus.code, 0);
  assert.ok(client.lines().includes("Shutting down"));
  assert.ok(server.lines().includes("Shutting down"));
});
