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
    pkarrUrl: "http://dns.test/pkarr",
    contents: () => ({ relayUrls: [relay], addrs: [{ hostname: "192.0.2.7", port: 7000 }] }),
    onError: (error) => errors.push(error),
    fetch: fetchStore,
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
    pkarrUrl: "http://relay.test/pkarr",
    accessToken: "relay-s3cret",
    contents: () => ({ relayUrls: ["http://relay.test/"], addrs: [] }),
    onError: (error) => assert.fail(error.message),
    fetch: fetchStore,
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
      pkarrUrl: "http://dns.test/pkarr",
      contents: () => ({ relayUrls: ["http://127.0.0.1:3340/"], addrs: [] }),
      onError: (error) => errors.push(error),
      accessToken,
      fetch: fetchStore,
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
