import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { PkarrRelayError, publishRecord, resolveRecord } from "./pkarr_client.ts";
import { createPkarrHandler } from "./pkarr_store.ts";
import { type PkarrRecord, signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const RELAY = "http://relay.test/pkarr";
const record = (timestampMicros: bigint): PkarrRecord => ({
  relayUrls: ["https://relay.example/"],
  addrs: [{ hostname: "192.0.2.1", port: 4433 }, { hostname: "2001:db8::1", port: 4433 }],
  userData: "hello",
  timestampMicros,
});

async function rejectsWith(
  promise: Promise<unknown>,
  expected: { message: RegExp; url: string; status?: number },
) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof PkarrRelayError, String(error));
    assert.match(error.message, expected.message);
    assert.ok(error.message.includes(expected.url), `${error.message} names ${expected.url}`);
    assert.equal(error.url, expected.url);
    assert.equal(error.status, expected.status);
    return true;
  });
}

Deno.test("publishRecord() and resolveRecord() go through a store in memory", async () => {
  const options = { relayUrl: RELAY, fetch: createPkarrHandler() };
  const key = SecretKey.generate();
  assert.equal(await resolveRecord(key.endpointId, options), undefined);
  await publishRecord(key, record(1n), options);
  assert.deepEqual(await resolveRecord(key.endpointId, options), record(1n));
  await publishRecord(key, { ...record(2n), userData: undefined }, options);
  assert.deepEqual(await resolveRecord(key.endpointId, options), {
    relayUrls: record(2n).relayUrls,
    addrs: record(2n).addrs,
    timestampMicros: 2n,
  });
});

Deno.test("publishRecord() reports the relay's refusal with its status and reason", async () => {
  const options = { relayUrl: `${RELAY}/`, fetch: createPkarrHandler() };
  const key = SecretKey.generate();
  const url = `${RELAY}/${endpointIdToZ32(key.endpointId)}`;
  await publishRecord(key, record(5n), options);
  await rejectsWith(publishRecord(key, record(4n), options), {
    message: /^Cannot publish to .*: HTTP 409: Cannot store record: timestamp 4 is not newer/,
    url,
    status: 409,
  });
});

Deno.test("resolveRecord() refuses a record signed by another key, and oversized answers", async () => {
  const asked = SecretKey.generate();
  const url = `${RELAY}/${endpointIdToZ32(asked.endpointId)}`;
  const impostor = signRecord(SecretKey.generate(), record(9n));
  const answering = (body: BodyInit, status = 200) => ({
    relayUrl: RELAY,
    fetch: () => Promise.resolve(new Response(body, { status })),
  });
  await rejectsWith(resolveRecord(asked.endpointId, answering(impostor)), {
    message: new RegExp(`the answer is not a record of ${asked.endpointId}: .*not signed by`),
    url,
    status: 200,
  });
  await rejectsWith(resolveRecord(asked.endpointId, answering(new Uint8Array(1073))), {
    message: /answer exceeds the limit of 1072 bytes/,
    url,
    status: 200,
  });
  await rejectsWith(resolveRecord(asked.endpointId, answering("overloaded\u001b[31m\nmore", 503)), {
    message: /: HTTP 503: overloaded\[31m$/,
    url,
    status: 503,
  });
});

Deno.test("publishRecord() and resolveRecord() name the URL when the request fails", async () => {
  const key = SecretKey.generate();
  const url = `https://dns.example/base/pkarr/${endpointIdToZ32(key.endpointId)}`;
  const failing = {
    relayUrl: "https://dns.example/base/pkarr//",
    fetch: () => Promise.reject(new TypeError("connection refused")),
  };
  await rejectsWith(publishRecord(key, record(1n), failing), {
    message: /^Cannot publish to .*: connection refused$/,
    url,
  });
  await rejectsWith(resolveRecord(key.endpointId, failing), {
    message: /^Cannot resolve .*: connection refused$/,
    url,
  });
});

Deno.test("resolveRecord() passes an abort through unwrapped", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  // A relay that never answers; only the abort ends the request.
  const hanging = (request: Request) =>
    new Promise<Response>((_, reject) => {
      request.signal.addEventListener("abort", () => reject(request.signal.reason));
    });
  const options = { relayUrl: RELAY, fetch: hanging, signal: controller.signal };
  const resolving = resolveRecord(SecretKey.generate().endpointId, options);
  controller.abort(reason);
  await assert.rejects(resolving, (e) => e === reason);
});

Deno.test("publishRecord() and resolveRecord() over HTTP to a store served on 127.0.0.1", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createPkarrHandler(),
  );
  try {
    const options = { relayUrl: `http://127.0.0.1:${server.addr.port}/pkarr` };
    const key = SecretKey.generate();
    assert.equal(await resolveRecord(key.endpointId, options), undefined);
    await publishRecord(key, record(1_700_000_000_000_000n), options);
    assert.deepEqual(await resolveRecord(key.endpointId, options), record(1_700_000_000_000_000n));
    const response = await fetch(
      `http://127.0.0.1:${server.addr.port}/pkarr/${endpointIdToZ32(key.endpointId)}`,
    );
    assert.equal(response.headers.get("content-type"), "application/x-pkarr-signed-packet");
    await response.body?.cancel();
  } finally {
    await server.shutdown();
  }
});

Deno.test("publishRecord() and resolveRecord() send an access token as Authorization: Bearer", async () => {
  const store = createPkarrHandler();
  const seen: { method: string; url: string; authorization: string | null }[] = [];
  const recording = (request: Request) => {
    seen.push({
      method: request.method,
      url: request.url,
      authorization: request.headers.get("authorization"),
    });
    return store(request);
  };
  const key = SecretKey.generate();
  const withToken = { relayUrl: RELAY, fetch: recording, accessToken: "relay-s3cret" };
  await publishRecord(key, record(1n), withToken);
  assert.deepEqual(await resolveRecord(key.endpointId, withToken), record(1n));
  await resolveRecord(key.endpointId, { relayUrl: RELAY, fetch: recording });
  assert.deepEqual(seen.map((r) => [r.method, r.authorization]), [
    ["PUT", "Bearer relay-s3cret"],
    ["GET", "Bearer relay-s3cret"],
    ["GET", null],
  ]);
  assert.ok(seen.every((r) => !r.url.includes("s3cret")));
});

Deno.test("publishRecord() sends its accessToken as a bearer token; without one a guarded relay answers 401", async () => {
  const store = createPkarrHandler({ accessTokens: ["s3cret"] });
  const key = SecretKey.generate();
  const url = `${RELAY}/${endpointIdToZ32(key.endpointId)}`;
  await rejectsWith(publishRecord(key, record(1n), { relayUrl: RELAY, fetch: store }), {
    message: /HTTP 401: Cannot store record: this relay needs an access token/,
    url,
    status: 401,
  });
  await publishRecord(key, record(1n), { relayUrl: RELAY, fetch: store, accessToken: "s3cret" });
  assert.deepEqual(
    await resolveRecord(key.endpointId, { relayUrl: RELAY, fetch: store }),
    record(1n),
  );
});

Deno.test("resolveRecord() gives up on a relay that never answers, saying so", async () => {
  const hanging = (request: Request) =>
    new Promise<Response>((_, reject) => {
      request.signal.addEventListener("abort", () => reject(request.signal.reason));
    });
  const started = Date.now();
  await assert.rejects(
    resolveRecord(SecretKey.generate().endpointId, {
      relayUrl: RELAY,
      fetch: hanging,
      timeoutMs: 200,
    }),
    (e) => e instanceof PkarrRelayError && /no answer within 0\.2 s$/.test(e.message),
  );
  assert.ok(Date.now() - started < 2_000);
});

Deno.test("publishRecord() names the cause of a failed fetch, not just 'fetch failed'", async () => {
  // What Deno's fetch throws when DNS cannot resolve the relay's host.
  const failing = () =>
    Promise.reject(
      new TypeError("fetch failed", {
        cause: new Error(
          "error sending request for url (https://dns.example/pkarr/x): client error (Connect): dns error: failed to lookup address information: Temporary failure in name resolution",
        ),
      }),
    );
  await assert.rejects(
    publishRecord(SecretKey.generate(), record(1n), { relayUrl: RELAY, fetch: failing }),
    (e) =>
      e instanceof PkarrRelayError &&
      e.message.endsWith(
        ": dns error: failed to lookup address information: Temporary failure in name resolution",
      ),
  );
});
