// Client keys end to end: keys made by `generate-client-key`, a server that
// lists one in --authorized-keys (no token at all), a client with that key
// forwarding through it, and a client with an unlisted key refused in one line.
import assert from "node:assert/strict";
import {
  freePort,
  runCli,
  startClient,
  startServer,
  startTcpEchoServer,
  transferPayload,
} from "../harness/mod.ts";

/** Runs `generate-client-key` into `path`; returns the public line it printed. */
async function generateKey(path: string, comment: string): Promise<string> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  const made = await runCli(["generate-client-key", "--output", path, "--comment", comment], {
    readPaths: [dir],
    denoFlags: [`--allow-write=${dir}`],
  });
  assert.equal(made.code, 0, made.stderr);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const line = made.stdout.trim();
  assert.match(line, /^tunnelrsv1authpub:[A-Za-z0-9_-]{43} /);
  return line;
}

Deno.test("a client key listed in --authorized-keys forwards; an unlisted one is refused in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "client-keys-e2e-" });
  try {
    const aliceKey = `${dir}/alice.key`;
    const malloryKey = `${dir}/mallory.key`;
    const aliceLine = await generateKey(aliceKey, "alice-laptop");
    await generateKey(malloryKey, "mallory");
    // show-client-key reads the public half back from the secret file.
    const shown = await runCli(["show-client-key", "--secret-file", aliceKey], {
      readPaths: [aliceKey],
    });
    assert.equal(`${shown.stdout.trim()} alice-laptop`, aliceLine);
    // A key file is never overwritten without --force.
    const again = await runCli(["generate-client-key", "--output", aliceKey], {
      readPaths: [dir],
      denoFlags: [`--allow-write=${dir}`],
    });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr.trim(), /^Error: Cannot write '.*': it already exists \(use --force/);
    // Without --output: the key file on stdout, its public line on stderr (not a terminal).
    const piped = await runCli(["generate-client-key", "--comment", "piped"]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /^tunnelrsv1authsecret:[A-Za-z0-9_-]{43}$/m);
    assert.match(piped.stderr.trim(), /^tunnelrsv1authpub:[A-Za-z0-9_-]{43} piped$/);
    assert.ok(piped.stdout.includes(`# Public key: ${piped.stderr.trim()}`));
    const authorized = `${dir}/authorized_keys`;
    await Deno.writeTextFile(authorized, `# who may connect\n${aliceLine}\n`);

    await using echo = startTcpEchoServer();
    const status = `127.0.0.1:${freePort()}`;
    await using server = await startServer({
      authTokens: [],
      extraArgs: ["--authorized-keys", authorized, "--status", status],
      readPaths: [authorized],
    });
    assert.ok(
      server.lines().includes(`Client keys: 1 authorized in ${authorized}`),
      server.lines().join("\n"),
    );

    await using client = await startClient({
      serverNodeId: server.endpointId,
      serverAddr: server.addr,
      source: `tcp://127.0.0.1:${echo.port}`,
      extraArgs: ["--client-key", aliceKey],
      readPaths: [aliceKey],
    });
    const { sent, received } = await transferPayload(client.localPort, 200_000, { seed: 22 });
    assert.equal(received.sha256, sent.sha256);
    assert.ok(
      server.lines().some((line) => /client connected from .* key "alice-laptop"$/.test(line)),
      server.lines().join("\n"),
    );

    // `tunnel status` names the session's key too.
    const shownStatus = await runCli(["status", status]);
    assert.match(shownStatus.stdout, /session 1: \S+ key "alice-laptop" -> tcp:\/\/127\.0\.0\.1:/);

    const refused = await runCli([
      "client",
      "--server-node-id",
      server.endpointId,
      ...server.pathArgs,
      "--source",
      `tcp://127.0.0.1:${echo.port}`,
      "--target",
      "127.0.0.1:0",
      "--client-key",
      malloryKey,
    ], { readPaths: [malloryKey] });
    assert.notEqual(refused.code, 0);
    const lines = refused.stderr.trim().split("\n");
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(
      lines[0],
      /^Error: server refused authentication: client key not authorized \(ask the server's operator to add your public key/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
