import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { DNS_CLASS_IN, DNS_TYPE_TXT, encodeDnsResponse, encodeTxtData } from "./dns_packet.ts";
import {
  createPkarrHandler,
  MAX_RECORD_LIFETIME_SECONDS,
  MIN_RECORD_LIFETIME_SECONDS,
  PKARR_CONTENT_TYPE,
  type PkarrStoreOptions,
} from "./pkarr_store.ts";
import { _signable, MAX_SIGNED_PACKET_BODY, signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const BASE = "http://relay.test/pkarr";

/** A store on a clock the test moves; `from` is the writer's address. */
function store(options: PkarrStoreOptions = {}) {
  const clock = { ms: 1_000 };
  const handler = createPkarrHandler({ now: () => clock.ms, ...options });
  return {
    clock,
    put: (key: SecretKey | string, body: BodyInit, headers?: HeadersInit, from = "192.0.2.1") =>
      handler(new Request(urlOf(key), { method: "PUT", body, headers }), {
        remoteAddr: { hostname: from },
      }),
    get: (key: SecretKey | string) => handler(new Request(urlOf(key))),
    handler,
  };
}

/** The status of a GET, its body drained. */
async function statusOf(get: (key: SecretKey) => Promise<Response>, key: SecretKey) {
  const response = await get(key);
  await response.body?.cancel();
  return response.status;
}
const urlOf = (key: SecretKey | string) =>
  `${BASE}/${typeof key === "string" ? key : endpointIdToZ32(key.endpointId)}`;

const body = (
  key: SecretKey,
  timestampMicros: bigint = BigInt(Date.now()) * 1000n,
  relay = "https://relay.example/",
) => signRecord(key, { relayUrls: [relay], addrs: [], timestampMicros });

/** A body whose one TXT record has `ttl`. */
function bodyWithTtl(key: SecretKey, ttl: number, timestampMicros = 1n): Uint8Array<ArrayBuffer> {
  const packet = encodeDnsResponse([{
    name: `_iroh.${endpointIdToZ32(key.endpointId)}`,
    type: DNS_TYPE_TXT,
    class: DNS_CLASS_IN,
    ttl,
    data: encodeTxtData(["relay=https://relay.example/"]),
  }]);
  const out = new Uint8Array(72 + packet.length);
  out.set(key.sign(_signable(timestampMicros, packet)));
  new DataView(out.buffer).setBigUint64(64, timestampMicros);
  out.set(packet, 72);
  return out;
}

async function expectError(response: Response, status: number, message: RegExp) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  const text = await response.text();
  assert.match(text, message);
  assert.ok(!text.includes("\n"), `one line: ${text}`);
}

Deno.test("createPkarrHandler(): PUT answers 204, GET returns the same bytes as a signed packet", async () => {
  const { put, get } = store();
  const key = SecretKey.generate();
  const signed = body(key, 10n);
  const stored = await put(key, signed);
  assert.equal(stored.status, 204);
  assert.equal(await stored.text(), "");
  const got = await get(key);
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-type"), PKARR_CONTENT_TYPE);
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), signed);
});

Deno.test("createPkarrHandler(): 404 for absent keys and other paths, 405 for other methods", async () => {
  const { get, handler } = store();
  await expectError(await get(SecretKey.generate()), 404, /No record/);
  await expectError(await handler(new Request("http://relay.test/other")), 404, /Not found/);
  await expectError(await handler(new Request(`${BASE}/a/b`)), 404, /Not found/);
  const post = await handler(new Request(urlOf(SecretKey.generate()), { method: "POST" }));
  assert.equal(post.headers.get("allow"), "GET, PUT");
  await expectError(post, 405, /POST not allowed/);
});

Deno.test("createPkarrHandler(): 400 naming the problem for a bad key, signature or packet", async () => {
  const { put, get } = store();
  const key = SecretKey.generate();
  const other = SecretKey.generate();
  await expectError(await get("short"), 400, /expected 52 characters, got 5/);
  const upper = endpointIdToZ32(key.endpointId).toUpperCase();
  await expectError(await get(upper), 400, /invalid character .* \(z-base-32 is lowercase\)/);
  await expectError(await put(other, body(key, 1n)), 400, /not signed by/);
  await expectError(await put(key, new Uint8Array(10)), 400, /shorter than its 72-byte header/);
  await expectError(await put(key, new Uint8Array(0)), 400, /0 bytes is shorter/);
  const garbage = bodyWithTtl(key, 30).slice(0, 90);
  await expectError(await put(key, garbage), 400, /not signed by/);
  assert.equal((await get(key)).status, 404);
});

Deno.test("createPkarrHandler(): 413 past 1072 bytes, declared or streamed", async () => {
  const { put } = store();
  const key = SecretKey.generate();
  const tooLarge = new Uint8Array(MAX_SIGNED_PACKET_BODY + 1);
  await expectError(await put(key, tooLarge), 413, /exceeds the limit of 1072 bytes/);
  const declared = await put(key, body(key, 1n), { "content-length": "5000" });
  await expectError(declared, 413, /limit of 1072/);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(600)); // never ends: must be cut off, not buffered
    },
  });
  await expectError(await put(key, stream), 413, /limit of 1072/);
});

Deno.test("createPkarrHandler(): a record must be newer than the stored one (409), the same bytes pass", async () => {
  const { put, get } = store();
  const key = SecretKey.generate();
  assert.equal((await put(key, body(key, 100n))).status, 204);
  await expectError(
    await put(key, body(key, 99n)),
    409,
    /timestamp 99 is not newer than the stored 100/,
  );
  await expectError(
    await put(key, body(key, 100n, "https://other.example/")),
    409,
    /100 is not newer/,
  );
  assert.equal((await put(key, body(key, 100n))).status, 204);
  assert.equal((await put(key, body(key, 101n, "https://newer.example/"))).status, 204);
  assert.deepEqual(
    new Uint8Array(await (await get(key)).arrayBuffer()),
    body(key, 101n, "https://newer.example/"),
  );
});

Deno.test("createPkarrHandler(): records expire after their TTL, kept at least 15 minutes and at most a day", async () => {
  const { put, get, clock } = store();
  const cases: [number, number][] = [
    [30, MIN_RECORD_LIFETIME_SECONDS], // iroh's TTL: the floor
    [3_600, 3_600],
    [10_000_000, MAX_RECORD_LIFETIME_SECONDS],
  ];
  for (const [ttl, lifetime] of cases) {
    const key = SecretKey.generate();
    const start = clock.ms;
    assert.equal((await put(key, bodyWithTtl(key, ttl))).status, 204);
    clock.ms = start + lifetime * 1000 - 1;
    assert.equal((await get(key)).status, 200, `TTL ${ttl} still there`);
    clock.ms = start + lifetime * 1000;
    assert.equal((await get(key)).status, 404, `TTL ${ttl} expired`);
  }
  // Once expired, the old timestamp no longer binds: any valid record is taken.
  const key = SecretKey.generate();
  await put(key, bodyWithTtl(key, 30, 50n));
  clock.ms += MIN_RECORD_LIFETIME_SECONDS * 1000;
  assert.equal((await put(key, bodyWithTtl(key, 30, 49n))).status, 204);
});

Deno.test("createPkarrHandler(): with access tokens, writes need one (401, one line); reads stay open", async () => {
  const { put, get, handler } = store({ accessTokens: ["s3cret", "other"] });
  const key = SecretKey.generate();
  const refused = await put(key, body(key, 1n));
  assert.equal(refused.headers.get("www-authenticate"), "Bearer");
  await expectError(refused, 401, /needs an access token to write \(Authorization: Bearer TOKEN\)/);
  await expectError(await put(key, body(key, 1n), { authorization: "Bearer s3cre" }), 401, /token/);
  await expectError(await put(key, body(key, 1n), { authorization: "Basic s3cret" }), 401, /token/);
  assert.equal((await get(key)).status, 404, "nothing was stored");
  assert.equal((await put(key, body(key, 1n), { authorization: "Bearer s3cret" })).status, 204);
  const withQuery = await handler(
    new Request(`${urlOf(key)}?token=other`, { method: "PUT", body: body(key, 2n) }),
  );
  assert.equal(withQuery.status, 204, "?token= as on /relay");
  const read = await get(key);
  assert.equal(read.status, 200, "reads need no token");
  assert.deepEqual(new Uint8Array(await read.arrayBuffer()), body(key, 2n));
});

Deno.test("createPkarrHandler(): a timestamp 2^63 is refused (400), and its owner can still publish", async () => {
  const { put, get } = store();
  const key = SecretKey.generate();
  await expectError(
    await put(key, body(key, 1n << 63n)),
    400,
    /s ahead of the relay's clock \(at most 300 s\)/,
  );
  assert.equal(await statusOf(get, key), 404);
  const current = body(key);
  assert.equal((await put(key, current)).status, 204, "the owner's current record is taken");
  assert.deepEqual(new Uint8Array(await (await get(key)).arrayBuffer()), current);
});

Deno.test("createPkarrHandler(): per address, 20 writes at once then 1/s (429), counted before the body is read", async () => {
  const { put, clock } = store();
  const key = SecretKey.generate();
  for (let i = 0; i < 20; i++) {
    const response = await put(key, new Uint8Array(10), undefined, "198.51.100.7");
    assert.equal(response.status, 400, `write ${i}: a bad body still costs a write`);
    await response.body?.cancel();
  }
  const refused = await put(key, body(key), undefined, "198.51.100.7");
  assert.equal(refused.headers.get("retry-after"), "1");
  await expectError(
    refused,
    429,
    /too many writes from this address \(20 at once, then 1 per second\)/,
  );
  assert.equal(
    (await put(key, body(key), undefined, "198.51.100.8")).status,
    204,
    "another address",
  );
  clock.ms += 1_000;
  const later = await put(key, body(key), undefined, "198.51.100.7");
  assert.equal(later.status, 204, "a second later, one more");
  // IPv6 counts by /64: another address in the same /64 is the same writer.
  for (let i = 0; i < 20; i++) {
    await (await put(key, new Uint8Array(0), undefined, `2001:db8::${i + 1}`)).body?.cancel();
  }
  await expectError(await put(key, body(key), undefined, "2001:db8::ffff"), 429, /this address/);
});

Deno.test("createPkarrHandler(): per key, 10 changes at once then one per 10 s (429)", async () => {
  const { put, clock } = store();
  const key = SecretKey.generate();
  let timestamp = BigInt(Date.now()) * 1000n;
  // From 10 addresses, so the address limit is not what stops it.
  const change = (i: number) => put(key, body(key, ++timestamp), undefined, `198.51.100.${i}`);
  for (let i = 0; i < 10; i++) assert.equal((await change(i)).status, 204, `change ${i}`);
  await expectError(await change(10), 429, /changed its record 10 times recently/);
  clock.ms += 10_000;
  assert.equal((await change(11)).status, 204);
});

Deno.test("createPkarrHandler(): a flood of fresh keys evicts neither a connected key's record nor a legitimate one", async () => {
  const connected = SecretKey.generate();
  const lines: string[] = [];
  const { put, get } = store({
    maxRecords: 8,
    isConnected: (id) => id.equals(connected.endpointId),
    log: (line) => lines.push(line),
  });
  const legit = SecretKey.generate();
  assert.equal((await put(legit, body(legit), undefined, "192.0.2.10")).status, 204);
  // The connected key publishes from the flooder's address (one NAT): still kept.
  assert.equal((await put(connected, body(connected), undefined, "203.0.113.66")).status, 204);
  const statuses = new Map<number, number>();
  for (let i = 0; i < 200; i++) {
    const key = SecretKey.generate();
    const from = `203.0.113.${66 + (i % 3)}`;
    const response = await put(key, body(key), undefined, from);
    await response.body?.cancel();
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  }
  assert.equal(await statusOf(get, legit), 200, "the legitimate record is kept");
  assert.equal(await statusOf(get, connected), 200, "the connected key's record is kept");
  assert.ok((statuses.get(429) ?? 0) >= 150, `mostly refused: ${[...statuses]}`);
  // A newcomer within its rate still finds room: a flooder's record makes way.
  const late = SecretKey.generate();
  assert.equal((await put(late, body(late), undefined, "192.0.2.11")).status, 204);
  assert.equal(await statusOf(get, late), 200);
  assert.equal(lines.length, 1, `one summary line, not a line per refusal: ${lines}`);
  assert.match(lines[0], /^pkarr: since the last report, writes refused: /);
});

Deno.test("createPkarrHandler(): a store full of records within their rate refuses new keys (429), keeps its records", async () => {
  const { put, get } = store({ maxRecords: 3 });
  const keys = Array.from({ length: 3 }, () => SecretKey.generate());
  for (const [i, key] of keys.entries()) {
    assert.equal((await put(key, body(key), undefined, `192.0.2.${i}`)).status, 204);
  }
  const newcomer = SecretKey.generate();
  await expectError(await put(newcomer, body(newcomer), undefined, "192.0.2.9"), 429, /full/);
  assert.deepEqual(await Promise.all(keys.map((key) => statusOf(get, key))), [200, 200, 200]);
  assert.equal((await put(keys[0], body(keys[0]), undefined, "192.0.2.0")).status, 204, "updates");
  assert.throws(() => createPkarrHandler({ maxRecords: 0 }), RangeError);
});
