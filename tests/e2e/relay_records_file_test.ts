// `tunnel relay --records-file`: discovery records survive a relay restart,
// even a kill, without the server publishing again; expired rows are gone after
// a restart; a file that is not a records file stops the relay with one line.
// The relay runs with reads and writes of that one file added to its
// permissions (tests/harness relayPermissionFlags).
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import {
  endpointIdToZ32,
  RecordFile,
  resolveRecord,
  signRecord,
} from "../../core/discovery/mod.ts";
import { EndpointId, SecretKey } from "../../core/identity/mod.ts";
import { type ManagedProcess, runCli, startLocalRelay, startServer } from "../harness/mod.ts";

async function recordsFile(): Promise<string> {
  return `${await Deno.makeTempDir({ prefix: "tunnel-relay-records-" })}/records.sqlite`;
}

/** The relay's line once its records file is loaded (it serves meanwhile). */
const loadedLine = (proc: ManagedProcess, file: string) =>
  proc.waitForLine(new RegExp(`^Records file ${file}: \\d+ record`), { timeoutMs: 20_000 });

Deno.test("tunnel relay --records-file: a server's record is served after the relay is killed and restarted", async () => {
  const file = await recordsFile();
  const first = await startLocalRelay(["--records-file", file]);
  await using _first = first.proc;
  assert.equal(await loadedLine(first.proc, file), `Records file ${file}: 0 record(s) loaded`);
  const dns = `${first.url.replace(/\/$/, "")}/pkarr`;
  let endpointId: EndpointId;
  {
    await using server = await startServer({
      authTokens: generateToken(),
      bind: "127.0.0.1:0",
      extraArgs: ["--relay-url", first.url, "--dns-server", dns],
    });
    assert.ok(server.lines().includes(`Discovery: published to ${dns}`), server.lines().join("\n"));
    endpointId = EndpointId.parse(server.endpointId);
  }
  // The server is gone and cannot publish again. Past one batching interval,
  // the record is on disk even if the relay dies without a word.
  const published = await resolveRecord(endpointId, { relayUrl: dns });
  assert.ok(published);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await first.proc.stop({ signal: "SIGKILL" });
  if (Deno.build.os !== "windows") assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);

  await using second = (await startLocalRelay(["--records-file", file])).proc;
  assert.equal(await loadedLine(second, file), `Records file ${file}: 1 record(s) loaded`);
  const url = second.lines().find((line) => line.startsWith("Relay listening on "))!
    .replace("Relay listening on ", "").replace(/\/$/, "");
  const found = await resolveRecord(endpointId, { relayUrl: `${url}/pkarr` });
  assert.deepEqual(found, published);
});

Deno.test("tunnel relay --records-file: a record past its expiry is gone after a restart", async () => {
  const file = await recordsFile();
  const live = SecretKey.generate();
  const expired = SecretKey.generate();
  const bodyOf = (key: SecretKey) =>
    signRecord(key, {
      relayUrls: ["https://relay.example/"],
      addrs: [],
      timestampMicros: BigInt(Date.now()) * 1000n,
    });
  // Written as a relay that stopped a while ago left it.
  const records = RecordFile.open(file, 10);
  records.write([
    {
      key: endpointIdToZ32(live.endpointId),
      body: bodyOf(live),
      writer: "127.0.0.1",
      expiresAtMs: Date.now() + 600_000,
    },
    {
      key: endpointIdToZ32(expired.endpointId),
      body: bodyOf(expired),
      writer: "127.0.0.1",
      expiresAtMs: Date.now() - 1_000,
    },
  ], []);
  records.close();

  const relay = await startLocalRelay(["--records-file", file]);
  await using _relay = relay.proc;
  assert.equal(
    await loadedLine(relay.proc, file),
    `Records file ${file}: 1 record(s) loaded (1 dropped: expired, failed a check, or no room)`,
  );
  const dns = `${relay.url.replace(/\/$/, "")}/pkarr`;
  assert.ok(await resolveRecord(live.endpointId, { relayUrl: dns }));
  assert.equal(await resolveRecord(expired.endpointId, { relayUrl: dns }), undefined);
});

Deno.test("tunnel relay --records-file: a file that is not a records file ends the relay with one line", async () => {
  const file = await recordsFile();
  const text = "not a database\n".repeat(100);
  await Deno.writeTextFile(file, text);
  const result = await runCli([
    "relay",
    "--bind",
    "127.0.0.1:0",
    "--no-stun",
    "--records-file",
    file,
  ]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr.trim(),
    `Error: Cannot use records file ${file}: file is not a database`,
  );
  assert.equal(await Deno.readTextFile(file), text, "left as it was");
});
