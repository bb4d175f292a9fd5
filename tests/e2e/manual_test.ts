import assert from "node:assert/strict";
import {
  MANUAL_PERMISSION_FLAGS,
  PROJECT_CONFIG,
  startManualPair,
  startTcpEchoServer,
  startUdpEchoServer,
  transferPayload,
  TUNNEL_MAIN,
} from "../harness/mod.ts";

const spawn = (args: string[]) =>
  new Deno.Command(Deno.execPath(), { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
// Loopback only: never offer this machine's other interface addresses.
const LOOPBACK = ["--no-stun", "--host-candidate", "127.0.0.1"];

Deno.test("manual mode on loopback: blocks pasted, Direct (Host), TCP intact", async () => {
  await using echo = startTcpEchoServer();
  await using pair = startManualPair(spawn, spawn, TUNNEL_MAIN, PROJECT_CONFIG, [
    ...LOOPBACK,
    "-s",
    `tcp://127.0.0.1:${echo.port}`,
    "-t",
    "127.0.0.1:0",
  ], [...LOOPBACK, "--allowed-tcp", "127.0.0.0/8"]);
  const ready = await pair.client.waitFor(/^Tunnel ready: 127\.0\.0\.1:(\d+)/, 30_000);
  await pair.client.waitFor(/^\s+Connection: Direct \(Host\)$/, 1_000);
  await pair.server.waitFor(/^\s+Local: 127\.0\.0\.1:\d+ -> Remote: 127\.0\.0\.1:\d+$/, 1_000);
  const { sent, received } = await transferPayload(Number(ready[1]), 20_000_000);
  assert.equal(received.sha256, sent.sha256);
  // A server stopped cleanly tells its client why at once, not after the idle timeout (6 s).
  const stopping = performance.now();
  pair.server.process.kill("SIGTERM");
  const [serverStatus, clientStatus] = await Promise.all([
    pair.server.process.status,
    pair.client.process.status,
  ]);
  const heardMs = performance.now() - stopping;
  assert.equal(serverStatus.code, 0);
  assert.equal(clientStatus.code, 1);
  assert.ok(
    heardMs < 1_500,
    `the client ended ${heardMs.toFixed(0)} ms after the server's SIGTERM`,
  );
  assert.match(pair.client.stderr.join("\n"), /server shutting down/);
});

Deno.test("manual mode carries UDP (target written udp://host:port), large datagrams included", async () => {
  await using echo = startUdpEchoServer();
  await using pair = startManualPair(spawn, spawn, TUNNEL_MAIN, PROJECT_CONFIG, [
    ...LOOPBACK,
    "-s",
    `udp://127.0.0.1:${echo.port}`,
    "-t",
    // tunnel-rs's form of a UDP target: the scheme restates the source's protocol.
    "udp://127.0.0.1:0",
  ], [...LOOPBACK, "--allowed-udp", "127.0.0.0/8"]);
  const port = Number((await pair.client.waitFor(/^Tunnel ready: 127\.0\.0\.1:(\d+)/, 30_000))[1]);
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    for (const size of [10, 4_000, 60_000]) {
      const payload = crypto.getRandomValues(new Uint8Array(size));
      let reply: Uint8Array | undefined;
      for (let attempt = 0; attempt < 5 && !reply; attempt++) {
        await socket.send(payload, { transport: "udp", hostname: "127.0.0.1", port });
        const got = await Promise.race([
          socket.receive(),
          new Promise<null>((r) => setTimeout(() => r(null), 2_000)),
        ]);
        reply = got?.[0];
      }
      assert.deepEqual(reply, payload);
    }
  } finally {
    socket.close();
  }
});

Deno.test("a disallowed source is refused on both sides, with the reason", async () => {
  await using pair = startManualPair(spawn, spawn, TUNNEL_MAIN, PROJECT_CONFIG, [
    ...LOOPBACK,
    "-s",
    "tcp://10.9.9.9:22",
    "-t",
    "127.0.0.1:0",
  ], [...LOOPBACK, "--allowed-tcp", "127.0.0.0/8"]);
  const [client, server] = await Promise.all([
    pair.client.process.status,
    pair.server.process.status,
  ]);
  assert.notEqual(client.code, 0);
  assert.notEqual(server.code, 0);
  const reason = /10\.9\.9\.9 is not in the server's allowed networks/;
  assert.match(
    pair.client.stderr.join("\n"),
    /Error: server refused source tcp:\/\/10\.9\.9\.9:22: /,
  );
  assert.match(pair.client.stderr.join("\n"), reason);
  assert.match(pair.server.stderr.join("\n"), /Error: Refused source tcp:\/\/10\.9\.9\.9:22: /);
  assert.match(pair.server.stderr.join("\n"), reason);
});

Deno.test("a mangled or missing offer is refused with one line", async () => {
  const { runCli } = await import("../harness/mod.ts");
  const flags = ["--no-stun", "--host-candidate", "127.0.0.1", "--allowed-tcp", "127.0.0.0/8"];
  const garbage = await runCli(["server", "manual", ...flags], {
    stdin: "-----BEGIN TUNNEL MANUAL OFFER-----\nAAAA\n-----END TUNNEL MANUAL OFFER-----\n",
    denoFlags: ["--ignore-env", "--allow-sys=networkInterfaces"],
  });
  assert.notEqual(garbage.code, 0);
  assert.match(
    garbage.stderr.trim().split("\n").at(-1)!,
    /^Error: The TUNNEL MANUAL OFFER block is damaged/,
  );
  const empty = await runCli(["server", "manual", ...flags], {
    stdin: "",
    denoFlags: ["--ignore-env", "--allow-sys=networkInterfaces"],
  });
  assert.match(
    empty.stderr.trim().split("\n").at(-1)!,
    /^Error: Standard input ended before a complete/,
  );
});

Deno.test("`tunnel server -c file.toml` takes manual mode from the file", async () => {
  const { runCli } = await import("../harness/mod.ts");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/server.toml`,
      'role = "server"\nmode = "manual"\n[manual]\n[manual.allowed_sources]\ntcp = ["127.0.0.0/8"]\n',
    );
    const result = await runCli(["server", "-c", `${dir}/server.toml`, "--no-stun"], {
      stdin: "",
      readPaths: [dir],
      denoFlags: ["--ignore-env", "--allow-sys=networkInterfaces"],
    });
    // It waited for an offer, which only manual mode does.
    assert.match(result.stderr, /Paste the client's offer/);
    assert.match(
      result.stderr.trim().split("\n").at(-1)!,
      /^Error: Standard input ended before a complete TUNNEL MANUAL OFFER block/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A manual-mode process whose stdin stays open (nothing pasted) and whose output is collected. */
function startWaiting(cli: string[]) {
  const process = spawn([
    "run",
    "--no-prompt",
    "--config",
    PROJECT_CONFIG,
    ...MANUAL_PERMISSION_FLAGS,
    TUNNEL_MAIN,
    ...cli,
  ]);
  const text = { stdout: "", stderr: "" };
  const collect = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text[key] += chunk;
  };
  const drained = Promise.all([
    collect(process.stdout, "stdout"),
    collect(process.stderr, "stderr"),
  ]);
  return {
    process,
    text,
    async until(predicate: () => boolean, timeoutMs: number) {
      const end = performance.now() + timeoutMs;
      while (!predicate()) {
        if (performance.now() > end) {
          throw new Error(`timed out; stdout: ${text.stdout} stderr: ${text.stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async finish() {
      const status = await process.status;
      await drained;
      await process.stdin.close().catch(() => {});
      return status;
    },
  };
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${signal} while waiting for a paste exits 0 with 'Shutting down' (both sides)`, async () => {
    const server = startWaiting([
      "server",
      "manual",
      ...LOOPBACK,
      "--allowed-tcp",
      "127.0.0.0/8",
    ]);
    const client = startWaiting([
      "client",
      "manual",
      ...LOOPBACK,
      "-s",
      "tcp://127.0.0.1:22",
      "-t",
      "127.0.0.1:0",
    ]);
    await server.until(() => server.text.stderr.includes("Paste the client's offer:"), 20_000);
    await client.until(
      () => client.text.stdout.includes("-----END TUNNEL MANUAL OFFER-----"),
      20_000,
    );
    server.process.kill(signal);
    client.process.kill(signal);
    for (const side of [server, client]) {
      const status = await side.finish();
      assert.equal(status.code, 0, side.text.stderr);
      assert.equal(status.signal, null);
      assert.match(side.text.stdout, /^Shutting down$/m);
    }
  });
}

Deno.test("an answer pasted after the server stopped waiting is named as expired on both sides", async () => {
  const { ICE_TIMEOUT_MS } = await import("../../core/connect/mod.ts");
  const server = startWaiting(["server", "manual", ...LOOPBACK, "--allowed-tcp", "127.0.0.0/8"]);
  const client = startWaiting([
    "client",
    "manual",
    ...LOOPBACK,
    "-s",
    "tcp://127.0.0.1:22",
    "-t",
    "127.0.0.1:0",
  ]);
  const block = (text: string, label: string) =>
    text.match(new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----\\n`))?.[0];
  await client.until(() => block(client.text.stdout, "TUNNEL MANUAL OFFER") !== undefined, 20_000);
  const encode = (text: string) => new TextEncoder().encode(text);
  const toServer = server.process.stdin.getWriter();
  await toServer.write(encode(block(client.text.stdout, "TUNNEL MANUAL OFFER")!));
  await server.until(() => block(server.text.stdout, "TUNNEL MANUAL ANSWER") !== undefined, 20_000);
  // The server gives up ICE_TIMEOUT_MS after printing its answer; the paste comes after that.
  const serverStatus = await server.finish();
  assert.notEqual(serverStatus.code, 0);
  const serverError = server.text.stderr.trim().split("\n").at(-1)!;
  assert.match(serverError, /^Error: ICE found no working path to the client within 25 s /);
  assert.match(serverError, /the answer was not pasted into the client in time \(it expires/);
  await new Promise((r) => setTimeout(r, 1_000));
  const toClient = client.process.stdin.getWriter();
  await toClient.write(encode(block(server.text.stdout, "TUNNEL MANUAL ANSWER")!));
  const started = performance.now();
  const clientStatus = await client.finish();
  assert.notEqual(clientStatus.code, 0);
  const clientError = client.text.stderr.trim().split("\n").at(-1)!;
  assert.match(
    clientError,
    /^Error: ICE timed out waiting for the server: its answer was pasted \d+ s after this offer was printed/,
  );
  assert.match(clientError, /the answer had most likely expired\. Start both sides again/);
  assert.doesNotMatch(clientError, /symmetric NAT/);
  // The client still tries (an answer can be late and valid), for no longer than its own wait.
  assert.ok(performance.now() - started < ICE_TIMEOUT_MS + 5_000);
  toServer.releaseLock();
  toClient.releaseLock();
});

Deno.test("--offer-file and --answer-file are read without a paste prompt", async () => {
  const { runCli } = await import("../harness/mod.ts");
  const dir = await Deno.makeTempDir();
  try {
    // A damaged block: the error proves the file was read, the missing prompt that no paste was asked for.
    await Deno.writeTextFile(
      `${dir}/offer.txt`,
      "-----BEGIN TUNNEL MANUAL OFFER-----\nAAAA\n-----END TUNNEL MANUAL OFFER-----\n",
    );
    const result = await runCli(
      [
        "server",
        "manual",
        ...LOOPBACK,
        "--allowed-tcp",
        "127.0.0.0/8",
        "--offer-file",
        `${dir}/offer.txt`,
      ],
      { readPaths: [dir] },
    );
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /Paste/);
    assert.match(
      result.stderr,
      new RegExp(`^Waiting for the client's offer in '${dir}/offer.txt'$`, "m"),
    );
    assert.match(
      result.stderr.trim().split("\n").at(-1)!,
      /^Error: The TUNNEL MANUAL OFFER block is damaged/,
    );
    // The client's --answer-file alike: the offer is printed, the answer read from the file.
    await Deno.writeTextFile(
      `${dir}/answer.txt`,
      "-----BEGIN TUNNEL MANUAL ANSWER-----\nAAAA\n-----END TUNNEL MANUAL ANSWER-----\n",
    );
    const client = await runCli(
      [
        "client",
        "manual",
        ...LOOPBACK,
        "-s",
        "tcp://127.0.0.1:22",
        "-t",
        "127.0.0.1:0",
        "--answer-file",
        `${dir}/answer.txt`,
      ],
      { readPaths: [dir] },
    );
    assert.equal(client.code, 1, client.stderr);
    assert.match(client.stdout, /-----END TUNNEL MANUAL OFFER-----/);
    assert.doesNotMatch(client.stderr, /[Pp]aste/);
    assert.match(client.stderr, /its answer is read from '.*answer\.txt'/);
    assert.match(
      client.stderr.trim().split("\n").at(-1)!,
      /^Error: The TUNNEL MANUAL ANSWER block is damaged/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a block file that can never appear fails at once with one line", async () => {
  const { runCli } = await import("../harness/mod.ts");
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/fifo`;
    const mkfifo = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert.ok(mkfifo.success);
    const cases: [string[], RegExp][] = [
      [
        [
          "server",
          "manual",
          ...LOOPBACK,
          "--allowed-tcp",
          "127.0.0.0/8",
          "--offer-file",
          `${dir}/missing/x`,
        ],
        new RegExp(
          `^Error: Invalid --offer-file '${dir}/missing/x': its directory '${dir}/missing' does not exist`,
        ),
      ],
      [
        [
          "client",
          "manual",
          ...LOOPBACK,
          "-s",
          "tcp://127.0.0.1:22",
          "-t",
          "127.0.0.1:0",
          "--answer-file",
          `${dir}/missing/x`,
        ],
        new RegExp(
          `^Error: Invalid --answer-file '${dir}/missing/x': its directory '${dir}/missing' does not exist`,
        ),
      ],
      [
        ["server", "manual", ...LOOPBACK, "--allowed-tcp", "127.0.0.0/8", "--offer-file", fifo],
        new RegExp(`^Error: Invalid --offer-file '${fifo}': not a regular file`),
      ],
    ];
    for (const [args, message] of cases) {
      const started = performance.now();
      const result = await runCli(args, { readPaths: [dir], timeoutMs: 20_000 });
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "", "nothing printed: no offer for an answer that cannot come");
      assert.ok(performance.now() - started < 15_000);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
