// `tunnel relay`'s discovery records (/pkarr) under a hostile client: writes
// need the access token, each address and key is rate-limited, a flood of fresh
// keys evicts neither a connected key's record nor a legitimate one, and a
// record dated far ahead is refused. Several loopback addresses (127.0.0.x) play
// several clients, so the relay sees who writes what.
import assert from "node:assert/strict";
import { request } from "node:http";
import {
  endpointIdToZ32,
  PkarrRelayError,
  publishRecord,
  resolveRecord,
  signRecord,
} from "../../core/discovery/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { RelayClient } from "../../core/relay/mod.ts";
import { startLocalRelay } from "../harness/mod.ts";

async function startRelay(extra: string[] = []) {
  const { proc, url } = await startLocalRelay(extra);
  return { proc, url: url.replace(/\/$/, "") };
}

const nowMicros = () => BigInt(Date.now()) * 1000n;

/** PUTs `key`'s record, signed with `timestampMicros`, from the loopback address `from`. */
function putFrom(
  url: string,
  from: string,
  key: SecretKey,
  timestampMicros = nowMicros(),
): Promise<{ status: number; text: string }> {
  const body = signRecord(key, { relayUrls: [`${url}/`], addrs: [], timestampMicros });
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const put = request({
      host: hostname,
      port: Number(port),
      localAddress: from,
      method: "PUT",
      path: `/pkarr/${endpointIdToZ32(key.endpointId)}`,
      headers: { "content-type": "application/x-pkarr-signed-packet" },
      timeout: 10_000,
    }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => text += chunk);
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
    });
    put.on("timeout", () => put.destroy(new Error("PUT timed out")));
    put.on("error", reject);
    put.end(body);
  });
}

Deno.test("tunnel relay --access-token: /pkarr writes need the token, reads do not", async () => {
  const { proc, url } = await startRelay(["--access-token", "s3cret"]);
  await using _ = proc;
  const key = SecretKey.generate();
  const record = { relayUrls: [`${url}/`], addrs: [], timestampMicros: nowMicros() };
  const pkarr = { relayUrl: `${url}/pkarr` };
  await assert.rejects(publishRecord(key, record, pkarr), (error) => {
    assert.ok(error instanceof PkarrRelayError);
    assert.equal(error.status, 401);
    assert.match(error.message, /needs an access token to write/);
    return true;
  });
  await assert.rejects(publishRecord(key, record, { ...pkarr, accessToken: "wrong" }), /401/);
  assert.equal(await resolveRecord(key.endpointId, pkarr), undefined, "nothing was stored");
  await publishRecord(key, record, { ...pkarr, accessToken: "s3cret" });
  const resolved = await resolveRecord(key.endpointId, pkarr);
  assert.deepEqual(resolved?.relayUrls, [`${url}/`], "read without a token");
  // The token in the URL, as a server's --dns-server can carry it today.
  const newer = { ...record, timestampMicros: record.timestampMicros + 1n };
  await publishRecord(key, newer, { relayUrl: `${url}/pkarr?token=s3cret` });
  assert.equal(
    (await resolveRecord(key.endpointId, pkarr))?.timestampMicros,
    newer.timestampMicros,
  );
});

Deno.test("tunnel relay: a flood of fresh keys keeps connected and legitimate records; rates and far timestamps are refused", async () => {
  const { proc, url } = await startRelay(["--max-records", "16"]);
  await using _ = proc;
  const pkarr = { relayUrl: `${url}/pkarr` };
  const connected = SecretKey.generate();
  const client = RelayClient.connect({ url, secretKey: connected, onDatagram() {} });
  try {
    await client.ready();
    // The connected key publishes from an address that then floods (one NAT).
    assert.equal((await putFrom(url, "127.0.0.10", connected)).status, 204);
    const legit = SecretKey.generate();
    assert.equal((await putFrom(url, "127.0.0.3", legit)).status, 204);

    // The flood: 4 addresses, 60 fresh keys each, as fast as the relay answers.
    const flooders = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"];
    const floodKeys: SecretKey[] = [];
    const statuses = new Map<number, number>();
    const started = Date.now();
    await Promise.all(flooders.map(async (from) => {
      for (let i = 0; i < 60; i++) {
        const key = SecretKey.generate();
        floodKeys.push(key);
        const { status } = await putFrom(url, from, key);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }));
    const floodMs = Date.now() - started;
    const resolves = async (key: SecretKey) =>
      (await resolveRecord(key.endpointId, pkarr)) !== undefined;
    assert.ok(await resolves(connected), "the connected key's record is kept");
    assert.ok(await resolves(legit), "the legitimate record is kept");
    const held = (await Promise.all(floodKeys.map(resolves))).filter(Boolean).length;
    console.log(
      `flood of ${floodKeys.length} keys in ${floodMs} ms: ${
        JSON.stringify(Object.fromEntries(statuses))
      } by status, ${held} flood records held`,
    );
    assert.ok(held <= 14, `the store holds 16 records at most: ${held} flood records`);
    assert.ok((statuses.get(429) ?? 0) >= 150, `mostly refused: ${[...statuses]}`);

    // A newcomer within its rate still finds room: a flooder's record makes way.
    const late = SecretKey.generate();
    assert.equal((await putFrom(url, "127.0.0.4", late)).status, 204);
    assert.ok(await resolves(late));
    assert.ok(await resolves(connected) && await resolves(legit));

    // One address past its rate: at 1 write a second, a few quick ones meet the limit.
    const quick = [];
    for (let i = 0; i < 5; i++) quick.push(await putFrom(url, "127.0.0.10", SecretKey.generate()));
    const refused = quick.find(({ status }) => status === 429);
    assert.match(refused?.text ?? "", /too many writes from this address/);

    // One key past its rate: 10 changes, then one per 10 s (from fresh addresses).
    const busy = SecretKey.generate();
    let timestamp = nowMicros();
    for (let i = 0; i < 10; i++) {
      const { status } = await putFrom(url, `127.0.0.${30 + i}`, busy, ++timestamp);
      assert.equal(status, 204, `change ${i}`);
    }
    const keyRefused = await putFrom(url, "127.0.0.40", busy, ++timestamp);
    assert.equal(keyRefused.status, 429);
    assert.match(keyRefused.text, /changed its record 10 times recently/);

    // A record dated 2^63 µs is refused, and its owner still publishes.
    const owner = SecretKey.generate();
    const far = await putFrom(url, "127.0.0.5", owner, 1n << 63n);
    assert.equal(far.status, 400);
    assert.match(far.text, /ahead of the relay's clock/);
    assert.equal((await putFrom(url, "127.0.0.6", owner)).status, 204);

    // Refusals are summed up, not logged one by one.
    const summaries = proc.lines().filter((line) => line.startsWith("pkarr:"));
    assert.ok(summaries.length >= 1 && summaries.length <= 2, summaries.join("\n"));
  } finally {
    client.close();
  }
});
