// `tunnel relay` filled to its record cap from many sources: 100 loopback
// addresses (127.78.0.x) each write 20 records (their burst) into a relay
// with --max-records 2000. Then more writes from those same addresses are
// refused with 429 (the store is full and nobody holds more than its share),
// every held record still answers over HTTP and DNS, a newcomer's record takes
// the place of exactly one old one, and the count never exceeds the cap. The
// relay's RSS stays within a loose bound (from `ps`).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { request } from "node:http";
import { endpointIdToZ32, resolveRecordByDns, signRecord } from "../../core/discovery/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { ManagedProcess, tunnelCommandArgs } from "../harness/mod.ts";

const CAP = 2_000;
const PER_SOURCE = 20; // the relay's write burst per address
const SOURCES = CAP / PER_SOURCE;
const ORIGIN = "load.test";
/** Loose: an idle relay is ~70 MB; a few thousand records add far less than this. */
const RSS_BOUND_BYTES = 512 << 20;

interface Signed {
  key: SecretKey;
  z32: string;
  body: Uint8Array;
}

function signed(count: number): Signed[] {
  const timestampMicros = BigInt(Date.now()) * 1000n;
  return Array.from({ length: count }, () => {
    const key = SecretKey.generate();
    const body = signRecord(key, {
      relayUrls: ["https://relay.example/"],
      addrs: [{ hostname: "192.0.2.1", port: 4433 }],
      timestampMicros,
    });
    return { key, z32: endpointIdToZ32(key.endpointId), body };
  });
}

const source = (n: number) => `127.78.${n >> 8}.${(n & 255) + 1}`;

function send(
  port: number,
  method: "GET" | "PUT",
  z32: string,
  from = "127.0.0.1",
  body?: Uint8Array,
): Promise<{ status: number; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      localAddress: from,
      method,
      path: `/pkarr/${z32}`,
      timeout: 10_000,
    }, (response) => {
      const chunks: Uint8Array[] = [];
      response.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      response.on(
        "end",
        () =>
          resolve({
            status: response.statusCode ?? 0,
            body: new Uint8Array(Buffer.concat(chunks)),
          }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`${method} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs `jobs` with at most `lanes` at once. */
async function inLanes<T>(jobs: (() => Promise<T>)[], lanes: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < jobs.length) {
      const at = next++;
      results[at] = await jobs[at]();
    }
  }));
  return results;
}

/** The RSS of `pid` from `ps` (reading /proc directly needs every permission). */
async function rssBytes(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] })
    .output();
  const kb = Number(new TextDecoder().decode(stdout).trim());
  assert.ok(kb > 0, `ps gave no RSS for ${pid}`);
  return kb * 1024;
}

Deno.test({
  name:
    "tunnel relay at its record cap: lookups of held records answer, writes beyond are 429, no growth",
  ignore: Deno.build.os !== "linux", // 127.0.0.0/8 as many sources
  async fn() {
    const proc = ManagedProcess.spawn(Deno.execPath(), {
      args: tunnelCommandArgs([
        "relay",
        "--bind",
        "127.0.0.1:0",
        "--no-stun",
        "--max-records",
        String(CAP),
        "--dns-bind",
        "127.0.0.1:0",
        "--dns-origin",
        ORIGIN,
      ]),
    });
    await using _relay = proc;
    const listening = await proc.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
    const dnsLine = await proc.waitForLine(/^DNS on udp and tcp /, { timeoutMs: 20_000 });
    await proc.waitForLine("Relay ready", { timeoutMs: 20_000 });
    const port = Number(/:(\d+)\/$/.exec(listening)![1]);
    const dnsPort = Number(/127\.0\.0\.1:(\d+)/.exec(dnsLine)![1]);
    const pid = proc.process.pid;

    const records = signed(CAP + SOURCES + 1);
    const held = records.slice(0, CAP);
    const beyond = records.slice(CAP, CAP + SOURCES);
    const newcomer = records[CAP + SOURCES];

    // Fill: each source writes its burst, every write stored.
    const filled = await inLanes(
      held.map((record, i) => () =>
        send(port, "PUT", record.z32, source(Math.floor(i / PER_SOURCE)), record.body)
      ),
      16,
    );
    assert.deepEqual(filled.filter((r) => r.status !== 204).length, 0);

    // Past a second, each source has a write to spend again; the store is full
    // and every address holds the same share, so nothing may be evicted: 429.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const refused = await inLanes(
      beyond.map((record, n) => () => send(port, "PUT", record.z32, source(n), record.body)),
      16,
    );
    for (const answer of refused) {
      assert.equal(answer.status, 429);
      assert.match(new TextDecoder().decode(answer.body), /the store is full/);
    }

    // Every held record answers with its exact bytes; none of the refused does.
    const reads = await inLanes(held.map((record) => () => send(port, "GET", record.z32)), 16);
    reads.forEach((answer, i) => {
      assert.equal(answer.status, 200, `held record ${i}`);
      assert.deepEqual(answer.body, held[i].body);
    });
    const misses = await inLanes(beyond.map((record) => () => send(port, "GET", record.z32)), 16);
    assert.ok(misses.every((answer) => answer.status === 404));
    // The DNS face answers from the same store: a sample of held keys over UDP.
    for (const record of held.filter((_, i) => i % 100 === 0)) {
      const found = await resolveRecordByDns(record.key.endpointId, {
        server: `dns://127.0.0.1:${dnsPort}/${ORIGIN}`,
      });
      assert.deepEqual(found?.relayUrls, ["https://relay.example/"]);
    }

    // A newcomer (an address holding nothing) takes one old record's place: still CAP in all.
    assert.equal(
      (await send(port, "PUT", newcomer.z32, source(SOURCES), newcomer.body)).status,
      204,
    );
    const after = await inLanes(
      [...held, newcomer].map((record) => () => send(port, "GET", record.z32)),
      16,
    );
    const found = after.filter((answer) => answer.status === 200).length;
    assert.equal(found, CAP);
    assert.equal(after.at(-1)!.status, 200);
    assert.ok(after.every((answer) => answer.status === 200 || answer.status === 404));

    const rss = await rssBytes(pid);
    assert.ok(rss < RSS_BOUND_BYTES, `relay RSS ${rss} bytes at ${CAP} records`);
    assert.equal(proc.exitStatus, undefined, "the relay is still running");
  },
});
