import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { DNS_CLASS_IN, DNS_TYPE_TXT, encodeDnsResponse, encodeTxtData } from "./dns_packet.ts";
import {
  createPkarrHandler,
  MAX_RECORD_LIFETIME_SECONDS,
  MIN_RECORD_LIFETIME_SECONDS,
  PKARR_CONTENT_TYPE,
} from "./pkarr_store.ts";
import { _signable, MAX_SIGNED_PACKET_BODY, signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const BASE = "http://relay.test/pkarr";

/** A store on a clock the test moves. */
function store(maxRecords?: number) {
  const clock = { ms: 1_000 };
  const handler = createPkarrHandler({ now: () => clock.ms, maxRecords });
  return {
    clock,
    put: (key: SecretKey | string, body: BodyInit, headers?: HeadersInit) =>
      handler(new Request(urlOf(key), { method: "PUT", body, headers })),
    get: (key: SecretKey | string) => handler(new Request(urlOf(key))),
    handler,
  };
}
const urlOf = (key: SecretKey | string) =>
  `${BASE}/${typeof key === "string" ? key : endpointIdToZ32(key.endpointId)}`;

const body = (key: SecretKey, timestampMicros: bigint, relay = "https://relay.example/") =>
  signRecord(key, { relayUrls: [relay], addrs: [], timestampMicros });

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

Deno.test("createPkarrHandler(): when full, the least recently published record goes", async () => {
  const { put, get } = store(3);
  const [a, b, c, d] = Array.from({ length: 4 }, () => SecretKey.generate());
  for (const key of [a, b, c]) await put(key, body(key, 1n));
  await put(a, body(a, 2n)); // a is now the most recent publish
  await (await get(b)).body?.cancel(); // reading does not count
  await put(d, body(d, 1n));
  const status = async (key: SecretKey) => {
    const response = await get(key);
    await response.body?.cancel();
    return response.status;
  };
  assert.deepEqual(await Promise.all([a, b, c, d].map(status)), [200, 404, 200, 200]);
  assert.throws(() => createPkarrHandler({ maxRecords: 0 }), RangeError);
});
