import assert from "node:assert/strict";
import {
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
});

Deno.test("manual mode carries UDP, large datagrams included", async () => {
  await using echo = startUdpEchoServer();
  await using pair = startManualPair(spawn, spawn, TUNNEL_MAIN, PROJECT_CONFIG, [
    ...LOOPBACK,
    "-s",
    `udp://127.0.0.1:${echo.port}`,
    "-t",
    "127.0.0.1:0",
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
