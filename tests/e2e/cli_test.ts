import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  PROJECT_CONFIG,
  runCli,
  runCommand,
  startClient,
  startServer,
  startTcpEchoServer,
  transferPayload,
  TUNNEL_MAIN,
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

/** Asserts one `Error: ` line on stderr (no stack trace) matching `pattern`, and the exit code. */
function assertOneErrorLine(
  result: { code: number; stderr: string },
  pattern: RegExp,
  code: number,
  what: string,
): void {
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}:\n${result.stderr}`);
  assert.match(lines[0], /^Error: /, `${what}:\n${result.stderr}`);
  assert.match(lines[0], pattern, `${what}:\n${result.stderr}`);
  assert.equal(result.code, code, `${what}: exit code\n${result.stderr}`);
}

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

Deno.test("bad input ends with one Error line, exit 2 for usage and 1 for files, never a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.key`, "not a key");
    await Deno.writeTextFile(`${dir}/tokens.txt`, `# ok\n${generateToken()}\nioops\n`);
    await Deno.writeTextFile(`${dir}/bad.toml`, 'role = "server"\n[iroh]\nmax_sesions = 1\n');
    await Deno.writeTextFile(
      `${dir}/bad_cidr.toml`,
      'role = "server"\n[iroh]\n[iroh.allowed_sources]\ntcp = ["10.0.0.0/33"]\n',
    );
    // Opening a FIFO no one writes to blocks: each user file flag must refuse it instead.
    assert.ok((await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output()).success);
    const token = generateToken();
    const server = [
      "server",
      "--no-relay",
      "--no-dns",
      "--no-port-mapping",
      "--allowed-tcp",
      "127.0.0.0/8",
      "--auth-tokens",
      token,
    ];
    const client = (...args: string[]) => [
      "client",
      "-n",
      "a".repeat(52),
      "-s",
      "tcp://h:1",
      "-t",
      "127.0.0.1:0",
      "--auth-token",
      token,
      "--no-relay",
      "--no-dns",
      "--server-addr",
      "127.0.0.1:9",
      ...args,
    ];
    const cases: [string[], RegExp, number][] = [
      [
        ["server", "--allowed-tcp", "10.0.0.0/33", "--auth-tokens", token],
        /Invalid CIDR '10\.0\.0\.0\/33'/,
        EXIT_USAGE,
      ],
      [
        ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens", "nope"],
        /Invalid auth token/,
        EXIT_USAGE,
      ],
      [
        ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens-file", `${dir}/tokens.txt`],
        /tokens\.txt:3: Invalid auth token/,
        EXIT_USAGE,
      ],
      [[...server, "--secret-file", `${dir}/bad.key`], /Invalid secret key file/, EXIT_USAGE],
      [
        [...server, "--secret-file", `${dir}/none.key`],
        /Cannot read secret key file/,
        EXIT_FAILURE,
      ],
      [[...server, "--secret", "abc"], /Invalid secret key/, EXIT_USAGE],
      [
        ["server", "-c", `${dir}/bad_cidr.toml`, "--auth-tokens", token],
        /^Error: Invalid config '.*bad_cidr\.toml': allowed_sources\.tcp: Invalid CIDR '10\.0\.0\.0\/33'/,
        EXIT_USAGE,
      ],
      ...[
        [...server, "--secret-file", `${dir}/fifo`],
        ["server", "--allowed-tcp", "127.0.0.0/8", "--auth-tokens-file", `${dir}/fifo`],
        ["server", "-c", `${dir}/fifo`],
        ["show-server-id", "--secret-file", `${dir}/fifo`],
        ["show-npub", "--nsec-file", `${dir}/fifo`],
        [
          ...client().filter((arg) => arg !== "--auth-token" && arg !== token),
          "--auth-token-file",
          `${dir}/fifo`,
        ],
      ].map((args): [string[], RegExp, number] => [
        args,
        /^Error: Cannot read [a-z ]+ '.*fifo': not a regular file \(a pipe, socket or device\); name a file$/,
        EXIT_FAILURE,
      ]),
      [["server", "-c", `${dir}/bad.toml`], /unknown key 'iroh\.max_sesions'/, EXIT_USAGE],
      [
        ["server", "-c", `${dir}/none.toml`],
        /Cannot read config '.*none\.toml': no such file/,
        EXIT_FAILURE,
      ],
      [[...server, "--max-sessions", "0"], /--max-sessions/, EXIT_USAGE],
      [
        ["server", "--bogus"],
        /Unknown option '--bogus' \(see 'tunnel server --help'\)$/,
        EXIT_USAGE,
      ],
      [["server", "--allowed-tcp", "127.0.0.0/8"], /No auth tokens or client keys/, EXIT_USAGE],
      [["server", "--auth-tokens", token], /No allowed networks/, EXIT_USAGE],
      [["generate-token", "-c", "0"], /Invalid --count '0'/, EXIT_USAGE],
      [["generate-token", "-c", "10001"], /Invalid --count 10001: at most 10000/, EXIT_USAGE],
      [["generate-token", "extra"], /Unexpected argument 'extra'/, EXIT_USAGE],
      [
        ["show-server-id", "--secret-file", `${dir}/bad.key`],
        /Invalid secret key file/,
        EXIT_USAGE,
      ],
      [
        ["show-server-id", "--secret-file", `${dir}/none.key`],
        /Cannot read secret key file/,
        EXIT_FAILURE,
      ],
      [
        ["generate-server-key", "--force"],
        /Required option '-o, --output <file>' not specified/,
        EXIT_USAGE,
      ],
      [["bogus"], /Unknown command 'bogus' \(see 'tunnel --help'\)$/, EXIT_USAGE],
      [client("-n", "xyz"), /Invalid EndpointId/, EXIT_USAGE],
      [client("-s", "ftp://h:1"), /Invalid source 'ftp:\/\/h:1'/, EXIT_USAGE],
      [client("-t", "2222"), /Invalid --target address/, EXIT_USAGE],
      [
        client("--auth-token-file", `${dir}/none`),
        /Use either --auth-token or --auth-token-file/,
        EXIT_USAGE,
      ],
      [
        ["client", "-n", "a".repeat(52), "-s", "tcp://h:1", "--server-addr", "h:1"],
        /Missing --target/,
        EXIT_USAGE,
      ],
      [["client", "manual", "-t", "127.0.0.1:0"], /Missing --source/, EXIT_USAGE],
      [["server", "manual", "--no-stun"], /No allowed networks/, EXIT_USAGE],
      [
        ["server", "manual", "--allowed-tcp", "127.0.0.0/8", "--no-stun", "--stun-server", "h:1"],
        /Use either --no-stun or --stun-server/,
        EXIT_USAGE,
      ],
    ];
    for (const [args, pattern, code] of cases) {
      const result = await runCli(args, { readPaths: [dir] });
      assertOneErrorLine(result, pattern, code, args.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A client pointed at a port where no server listens, that gives up rather than retries. */
function clientOfNoServer(target: string) {
  return runCli([
    "client",
    "--no-reconnect",
    "-n",
    "a".repeat(52),
    "--no-relay",
    "--no-dns",
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
      "--no-relay",
      "--no-dns",
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

Deno.test("a command given nothing to work with prints its help on stderr and exits 2", async () => {
  const cases: [string[], RegExp[]][] = [
    [[], [
      /^Usage: tunnel \[options\] \[command\]/m,
      /^ {2}server +share services/m,
      /^ {2}server +share services with authenticated clients\n +\(modes: iroh, manual, nostr\)$/m,
      /^ {2}client +reach a service a server shares \(modes: iroh,\n +manual, nostr\)$/m,
      /Exit status:/,
    ]],
    [["server"], [/^Usage: tunnel server \[iroh\] \[options\]/m, /--allowed-tcp/, /^Modes/m]],
    [["client"], [
      /^Usage: tunnel client \[iroh\] \[options\]/m,
      /--server-node-id/,
      /^ {2}manual /m,
    ]],
    [["server", "iroh"], [/^Usage: tunnel server \[iroh\] \[options\]/m]],
    [["server", "manual"], [/^Usage: tunnel server manual \[options\]/m, /--offer-file/]],
    [["client", "manual"], [/^Usage: tunnel client manual \[options\]/m, /--answer-file/]],
    [["generate-server-key"], [/^Usage: tunnel generate-server-key \[options\]/m, /--output/]],
    [["show-server-id"], [/^Usage: tunnel show-server-id \[options\]/m, /--secret-file/]],
    [["generate-nostr-key"], [/^Usage: tunnel generate-nostr-key \[options\]/m, /--output/]],
    [["show-npub"], [/^Usage: tunnel show-npub \[options\]/m, /--nsec-file/]],
  ];
  for (const [args, patterns] of cases) {
    const result = await runCli(args);
    const what = `tunnel ${args.join(" ")}:\n${result.stderr}`;
    assert.equal(result.code, 2, what);
    assert.equal(result.stdout, "", what);
    assert.doesNotMatch(result.stderr, /Error|outputHelp/, what);
    for (const pattern of patterns) assert.match(result.stderr, pattern, what);
  }
});

Deno.test("`tunnel server --help` and `tunnel client --help` show the default mode's flags and the modes", async () => {
  const expected: Record<string, string[]> = {
    server: [
      "--allowed-tcp",
      "--allowed-udp",
      "--auth-tokens",
      "--auth-tokens-file",
      "--secret-file",
      "--bind",
      "--max-sessions",
    ],
    client: [
      "--server-node-id",
      "--no-relay",
      "--no-dns",
      "--server-addr",
      "--source",
      "--target",
      "--auth-token",
      "--auth-token-file",
    ],
  };
  for (const role of ["server", "client"]) {
    for (const args of [[role, "--help"], ["help", role], [role, "-h"]]) {
      const result = await runCli(args);
      assert.equal(result.code, 0, result.stderr);
      for (const flag of expected[role]) {
        assert.match(result.stdout, new RegExp(`^ {2}.*${flag} `, "m"));
      }
      assert.match(result.stdout, /^ {2}iroh +\(default\) /m);
      assert.match(result.stdout, /^ {2}manual +hole punching by copy-paste/m);
    }
  }
  const manual = await runCli(["server", "manual", "--help"]);
  assert.equal(manual.code, 0);
  assert.match(manual.stdout, /--no-stun/);
  assert.doesNotMatch(manual.stdout, /--auth-tokens/);
});

Deno.test("`tunnel help` of a command that does not exist is one line and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["help", "bogus"], /^Error: Unknown command 'bogus' \(see 'tunnel --help'\)$/],
    [["help", "vpn", "bogus"], /^Error: Unknown command 'bogus' for 'tunnel vpn' /],
    [["help", "server", "bogus"], /^Error: Unknown mode 'bogus' for 'tunnel server'/],
  ];
  for (const [args, message] of cases) {
    assertOneErrorLine(await runCli(args), message, EXIT_USAGE, args.join(" "));
  }
  for (const args of [["help", "vpn", "server"], ["help", "generate-token"], ["help", "help"]]) {
    const result = await runCli(args);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stdout, /^Usage: tunnel /m);
  }
});

Deno.test("an unknown mode is named in one line with the modes there are", async () => {
  for (const role of ["server", "client"]) {
    const result = await runCli([role, "bogus"]);
    assertOneErrorLine(
      result,
      new RegExp(`^Error: Unknown mode 'bogus' for 'tunnel ${role}': use iroh, manual or nostr `),
      EXIT_USAGE,
      `${role} bogus`,
    );
  }
});

Deno.test("without --unstable-net, server and client say which Deno flag is missing", async () => {
  const token = generateToken();
  const run = (args: string[]) =>
    runCommand(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", PROJECT_CONFIG, "--allow-net", TUNNEL_MAIN, ...args],
      timeoutMs: 20_000,
    });
  const commands = [
    [
      "server",
      "--no-relay",
      "--no-dns",
      "--allowed-tcp",
      "127.0.0.0/8",
      "--auth-tokens",
      token,
      "--bind",
      "127.0.0.1:0",
    ],
    [
      "client",
      "-n",
      "a".repeat(52),
      "--no-relay",
      "--no-dns",
      "--server-addr",
      "127.0.0.1:9",
      "-s",
      "tcp://127.0.0.1:22",
      "-t",
      "127.0.0.1:0",
      "--auth-token",
      token,
    ],
    ["server", "manual", "--allowed-tcp", "127.0.0.0/8", "--no-stun"],
    ["client", "manual", "-s", "tcp://127.0.0.1:22", "-t", "127.0.0.1:0", "--no-stun"],
  ];
  for (const args of commands) {
    assertOneErrorLine(
      await run(args),
      /^Error: QUIC needs Deno's --unstable-net flag: run deno run --unstable-net --allow-net /,
      EXIT_FAILURE,
      args.join(" "),
    );
  }
  // Help and the utilities need no QUIC.
  const help = await run(["server", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.equal((await run(["generate-token"])).code, 0);
});

Deno.test("a bad --server-addr is named with the flag and the value", async () => {
  const token = generateToken();
  // --no-reconnect: a name that does not resolve may resolve later (no network yet at boot).
  const client = (...addr: string[]) =>
    runCli([
      "client",
      "--no-reconnect",
      "-n",
      "a".repeat(52),
      "-s",
      "tcp://127.0.0.1:22",
      "-t",
      "127.0.0.1:0",
      "--auth-token",
      token,
      "--no-relay",
      "--no-dns",
      "--server-addr",
      ...addr,
    ]);
  // An empty label fails in the resolver library itself: no DNS query leaves the machine.
  assertOneErrorLine(
    await client("no..such.host:7000"),
    /^Error: Cannot resolve --server-addr 'no\.\.such\.host:7000': no such host$/,
    EXIT_FAILURE,
    "no..such.host:7000",
  );
  // What a shell makes of an unquoted value with a space.
  assertOneErrorLine(
    await client("bad", "host:1"),
    /^Error: Unexpected argument 'host:1' after --server-addr bad: quote a value that contains spaces, as in --server-addr 'bad host:1' /,
    EXIT_USAGE,
    "bad host:1",
  );
  assertOneErrorLine(
    await client("bad host:1"),
    /^Error: Invalid --server-addr 'bad host:1': expected host:port/,
    EXIT_USAGE,
    "'bad host:1'",
  );
});

Deno.test("a client with a wrong token is sent to the server's operator, not to generate-token", async () => {
  await using echo = startTcpEchoServer();
  await using server = await startServer({ authTokens: generateToken() });
  const client = (token: string) =>
    runCli([
      "client",
      "-n",
      server.endpointId,
      "--no-relay",
      "--no-dns",
      "--server-addr",
      server.addr,
      "-s",
      `tcp://127.0.0.1:${echo.port}`,
      "-t",
      "127.0.0.1:0",
      "--auth-token",
      token,
    ]);
  const mistyped = await client("iAAAAAAAAAAAAAAAAx");
  assertOneErrorLine(
    mistyped,
    /^Error: Invalid auth token in --auth-token: checksum mismatch .*; ask the server's operator for a valid token /,
    EXIT_USAGE,
    "mistyped token",
  );
  const refused = await client(generateToken());
  assert.equal(refused.code, EXIT_FAILURE, refused.stderr);
  const last = refused.stderr.trim().split("\n").at(-1)!;
  assert.match(
    last,
    /^Error: server refused authentication: .*\(ask the server's operator for a valid token\)$/,
  );
  assert.doesNotMatch(refused.stderr + mistyped.stderr, /generate-token/);
});

Deno.test("config, tokens, token and key files over their size limit are refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const token = generateToken();
    const oversized = async (name: string, bytes: number, start = "") => {
      await Deno.writeTextFile(`${dir}/${name}`, start + "#".repeat(bytes - start.length));
      return `${dir}/${name}`;
    };
    const config = await oversized("big.toml", (1 << 20) + 1, 'role = "server"\n');
    const tokens = await oversized("tokens.txt", (1 << 20) + 1, `${token}\n`);
    const tokenFile = await oversized("token", 4097, `${token}\n`);
    const key = await oversized("server.key", 4097);
    const server = ["server", "--no-relay", "--no-dns", "--allowed-tcp", "127.0.0.0/8"];
    const cases: [string[], RegExp][] = [
      [
        ["server", "-c", config],
        /^Error: Cannot read config '.*big\.toml': larger than the limit of 1 MiB$/,
      ],
      [
        [...server, "--auth-tokens-file", tokens],
        /^Error: Cannot read tokens file '.*tokens\.txt': larger than the limit of 1 MiB$/,
      ],
      [
        [...server, "--auth-tokens", token, "--secret-file", key],
        /^Error: Cannot read secret key file '.*server\.key': larger than the limit of 4 KiB$/,
      ],
      [
        ["show-server-id", "--secret-file", key],
        /^Error: Cannot read secret key file '.*server\.key': larger than the limit of 4 KiB$/,
      ],
      [
        [
          "client",
          "-n",
          "a".repeat(52),
          "--no-relay",
          "--no-dns",
          "--server-addr",
          "127.0.0.1:9",
          "-s",
          "tcp://127.0.0.1:22",
          "-t",
          "127.0.0.1:0",
          "--auth-token-file",
          tokenFile,
        ],
        /^Error: Cannot read token file '.*\/token': larger than the limit of 4 KiB$/,
      ],
    ];
    for (const [args, pattern] of cases) {
      assertOneErrorLine(
        await runCli(args, { readPaths: [dir] }),
        pattern,
        EXIT_FAILURE,
        args.join(" "),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokens from TUNNEL_AUTH_TOKENS and TUNNEL_AUTH_TOKEN; a flag wins over the variable", async () => {
  await using echo = startTcpEchoServer();
  const [a, b, c] = [generateToken(), generateToken(), generateToken()];
  await using server = await startServer({
    authTokens: [],
    env: { TUNNEL_AUTH_TOKENS: `${a},${b}\n` },
  });
  assert.ok(
    server.lines().includes("Auth tokens: 2 token(s) configured"),
    server.lines().join("\n"),
  );
  const source = `tcp://127.0.0.1:${echo.port}`;
  const base = { serverNodeId: server.endpointId, serverAddr: server.addr, source };
  {
    await using client = await startClient({ ...base, env: { TUNNEL_AUTH_TOKEN: b } });
    const { sent, received } = await transferPayload(client.localPort, 10_000);
    assert.equal(received.sha256, sent.sha256);
  }
  {
    // The flag's token is used: the variable's (not accepted) is not.
    await using client = await startClient({
      ...base,
      authToken: a,
      env: { TUNNEL_AUTH_TOKEN: c },
    });
    assert.match(client.lines().join("\n"), /Tunnel ready/);
  }
  const refused = await runCli(
    [
      "client",
      "-n",
      server.endpointId,
      "--no-relay",
      "--no-dns",
      "--server-addr",
      server.addr,
      "-s",
      source,
      "-t",
      "127.0.0.1:0",
    ],
    { env: { TUNNEL_AUTH_TOKEN: c } },
  );
  assert.match(refused.stderr, /server refused authentication/);
  // A server flag replaces the variable's tokens.
  await using flagged = await startServer({ authTokens: c, env: { TUNNEL_AUTH_TOKENS: a } });
  assert.ok(flagged.lines().includes("Auth tokens: 1 token(s) configured"));
  const old = await runCli(
    [
      "client",
      "-n",
      flagged.endpointId,
      "--no-relay",
      "--no-dns",
      "--server-addr",
      flagged.addr,
      "-s",
      source,
      "-t",
      "127.0.0.1:0",
      "--auth-token",
      a,
    ],
  );
  assert.match(old.stderr, /server refused authentication/);
});

Deno.test("TUNNEL_LOG that Deno may not read is reported once; a readable unset one is silent", async () => {
  const busy = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    // Bound to a busy port, the server prints its warnings and stops at once.
    const args = [
      "server",
      "--no-relay",
      "--no-dns",
      "--allowed-tcp",
      "127.0.0.0/8",
      "--auth-tokens",
      generateToken(),
      "--bind",
      `127.0.0.1:${(busy.addr as Deno.NetAddr).port}`,
    ];
    const run = (envFlag: string, env: Record<string, string>) =>
      runCommand(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "--config",
          PROJECT_CONFIG,
          "--unstable-net",
          "--allow-net",
          envFlag,
          TUNNEL_MAIN,
          ...args,
        ],
        env,
      });
    const denied = await run("--allow-env=HOME", { TUNNEL_LOG: "debug" });
    const warnings = denied.stderr.split("\n").filter((line) => line.includes("TUNNEL_LOG"));
    assert.deepEqual(warnings, [
      "warning: TUNNEL_LOG is not readable, so TUNNEL_LOG=debug has no effect (run with --allow-env=...,TUNNEL_LOG, or use -v)",
    ]);
    const granted = await run("--allow-env=TUNNEL_LOG", {});
    assert.doesNotMatch(granted.stderr, /TUNNEL_LOG/);
    assert.match(granted.stderr, /Cannot listen on 127\.0\.0\.1:\d+: address already in use/);
    const verbose = await run("--allow-env=HOME", {});
    assert.match(verbose.stderr, /TUNNEL_LOG is not readable/);
  } finally {
    busy.close();
  }
});
