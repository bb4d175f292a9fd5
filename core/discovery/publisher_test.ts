import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { resolveRecord } from "./pkarr_client.ts";
import { createPkarrHandler } from "./pkarr_store.ts";
import { startPublishing } from "./publisher.ts";

Deno.test("startPublishing() publishes at once, and again newer on demand", async () => {
  const store = createPkarrHandler();
  const fetchStore =
    ((input: Request | URL | string, init?: RequestInit) =>
      store(new Request(input, init))) as typeof fetch;
  const key = SecretKey.generate();
  let relay = "http://127.0.0.1:3340/";
  const errors: Error[] = [];
  const publisher = startPublishing({
    secretKey: key,
    destination: { pkarrUrl: "http://dns.test/pkarr", fetch: fetchStore },
    contents: () => ({ relayUrls: [relay], addrs: [{ hostname: "192.0.2.7", port: 7000 }] }),
    onError: (error) => errors.push(error),
  });
  try {
    await publisher.first;
    const resolve = () =>
      resolveRecord(key.endpointId, { relayUrl: "http://dns.test/pkarr", fetch: fetchStore });
    assert.deepEqual((await resolve())?.relayUrls, ["http://127.0.0.1:3340/"]);
    relay = "http://127.0.0.1:4440/";
    await publisher.publish();
    assert.deepEqual((await resolve())?.relayUrls, ["http://127.0.0.1:4440/"]);
    assert.deepEqual(errors, []);
  } finally {
    publisher.stop();
  }
});

Deno.test("startPublishing() sends its access token with each publish", async () => {
  const store = createPkarrHandler();
  const authorizations: (string | null)[] = [];
  const fetchStore = ((input: Request | URL | string, init?: RequestInit) => {
    const request = new Request(input, init);
    authorizations.push(request.headers.get("authorization"));
    return store(request);
  }) as typeof fetch;
  const publisher = startPublishing({
    secretKey: SecretKey.generate(),
    destination: {
      pkarrUrl: "http://relay.test/pkarr",
      accessToken: "relay-s3cret",
      fetch: fetchStore,
    },
    contents: () => ({ relayUrls: ["http://relay.test/"], addrs: [] }),
    onError: (error) => assert.fail(error.message),
  });
  try {
    await publisher.first;
    await publisher.publish();
    assert.deepEqual(authorizations, ["Bearer relay-s3cret", "Bearer relay-s3cret"]);
  } finally {
    publisher.stop();
  }
});

Deno.test("startPublishing() sends its accessToken to a relay that takes writes only with one", async () => {
  const store = createPkarrHandler({ accessTokens: ["s3cret"] });
  const fetchStore =
    ((input: Request | URL | string, init?: RequestInit) =>
      store(new Request(input, init))) as typeof fetch;
  const key = SecretKey.generate();
  const errors: Error[] = [];
  const publish = (accessToken?: string) =>
    startPublishing({
      secretKey: key,
      destination: { pkarrUrl: "http://dns.test/pkarr", accessToken, fetch: fetchStore },
      contents: () => ({ relayUrls: ["http://127.0.0.1:3340/"], addrs: [] }),
      onError: (error) => errors.push(error),
    });
  const without = publish();
  await without.first;
  without.stop();
  assert.match(errors[0]?.message ?? "", /HTTP 401/);
  const withToken = publish("s3cret");
  await withToken.first;
  withToken.stop();
  assert.equal(errors.length, 1);
  const resolved = await resolveRecord(key.endpointId, {
    relayUrl: "http://dns.test/pkarr",
    fetch: fetchStore,
  });
  assert.deepEqual(resolved?.relayUrls, ["http://127.0.0.1:3340/"]);
});

Deno.test("startPublishing() reports a failed first publish and retries sooner, backing off", async () => {
  const store = createPkarrHandler();
  const attempts: number[] = [];
  const started = Date.now();
  // The network is down for the first three attempts.
  const flaky = ((input: Request | URL | string, init?: RequestInit) => {
    attempts.push(Date.now() - started);
    if (attempts.length <= 3) return Promise.reject(new TypeError("network is unreachable"));
    return store(new Request(input, init));
  }) as typeof fetch;
  const errors: Error[] = [];
  let recovered = 0;
  const key = SecretKey.generate();
  const publisher = startPublishing({
    secretKey: key,
    destination: { pkarrUrl: "http://dns.test/pkarr", fetch: flaky },
    contents: () => ({ relayUrls: ["http://127.0.0.1:3340/"], addrs: [] }),
    onError: (error) => errors.push(error),
    onRecovered: () => recovered++,
    retryMs: 40,
  });
  try {
    const first = await publisher.first;
    assert.match(
      first?.message ?? "",
      /^Cannot publish to http:\/\/dns\.test\/pkarr\/.*: network is unreachable$/,
    );
    const deadline = Date.now() + 5_000;
    while (recovered === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(recovered, 1);
    assert.equal(errors.length, 3);
    // Retries 40, 80 and 160 ms apart: backing off, never the five-minute interval.
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]);
    assert.equal(gaps.length, 3);
    assert.ok(gaps[0] >= 35 && gaps[1] >= 75 && gaps[2] >= 155, `gaps ${gaps}`);
    assert.ok(gaps[2] < 2_000, `gaps ${gaps}`);
    const resolved = await resolveRecord(key.endpointId, {
      relayUrl: "http://dns.test/pkarr",
      fetch: (request) => store(request),
    });
    assert.deepEqual(resolved?.relayUrls, ["http://127.0.0.1:3340/"]);
  } finally {
    publisher.stop();
  }
});

Deno.test("startPublishing() stops retrying once stopped", async () => {
  let calls = 0;
  const failing = (() => {
    calls++;
    return Promise.reject(new TypeError("network is unreachable"));
  }) as typeof fetch;
  const publisher = startPublishing({
    secretKey: SecretKey.generate(),
    destination: { pkarrUrl: "http://dns.test/pkarr", fetch: failing },
    contents: () => ({ relayUrls: [], addrs: [] }),
    onError: () => {},
    retryMs: 20,
  });
  await publisher.first;
  publisher.stop();
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(calls, 1);
});
