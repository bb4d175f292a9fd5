// How a relay client presents its access token, and what it does when a relay
// refuses it: over real WebSockets on loopback.
import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { RelayClient, RelayRefusedError } from "./client.ts";
import { serveRelay } from "./serve_relay.ts";
import { createRelayServer } from "./server.ts";

/** An HTTP server that records each request's URL and Authorization, and answers `status`. */
function recordingServer(status: number) {
  const seen: { url: string; authorization: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push({ url: request.url, authorization: request.headers.get("authorization") });
    return new Response("no", { status });
  });
  return {
    seen,
    url: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("RelayClient sends its access token as Authorization: Bearer, never in the URL", async () => {
  await using server = recordingServer(401);
  const client = RelayClient.connect({
    url: server.url,
    secretKey: SecretKey.generate(),
    accessToken: "s3cret-token",
    onDatagram() {},
  });
  try {
    await assert.rejects(client.ready(5_000), RelayRefusedError);
  } finally {
    client.close();
  }
  assert.equal(server.seen.length, 1);
  assert.equal(server.seen[0].authorization, "Bearer s3cret-token");
  assert.ok(!server.seen[0].url.includes("s3cret"), server.seen[0].url);
  assert.equal(new URL(server.seen[0].url).search, "");
});

Deno.test("RelayClient gives up on HTTP 401 at once, says so once, and names no token", async () => {
  await using server = recordingServer(401);
  const refusals: RelayRefusedError[] = [];
  const client = RelayClient.connect({
    url: server.url,
    secretKey: SecretKey.generate(),
    accessToken: "wrong-token",
    onDatagram() {},
    onRefused: (error) => refusals.push(error),
  });
  try {
    const error = await client.ready(5_000).catch((e) => e);
    assert.ok(error instanceof RelayRefusedError, String(error));
    assert.equal(error.access, true);
    assert.equal(error.tokenPresented, true);
    assert.match(error.message, /refused the access token this client presented: HTTP 401/);
    assert.ok(!error.message.includes("wrong-token"));
    // Backoff starts at 1 s: a client that retried would have asked again by now.
    await new Promise((r) => setTimeout(r, 1_600));
    assert.equal(server.seen.length, 1, "asked again after a refusal");
    assert.equal(refusals.length, 1);
  } finally {
    client.close();
  }
});

Deno.test("RelayClient: a relay's ServerDeniesAuth for a wrong token is an access refusal", async () => {
  const relay = createRelayServer({ accessTokens: ["right"] });
  const listener = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.port}`;
  const wrong = RelayClient.connect({
    url,
    secretKey: SecretKey.generate(),
    accessToken: "wrong",
    onDatagram() {},
  });
  const right = RelayClient.connect({
    url,
    secretKey: SecretKey.generate(),
    accessToken: "right",
    onDatagram() {},
  });
  try {
    await right.ready(5_000);
    const error = await wrong.ready(5_000).catch((e) => e);
    assert.ok(error instanceof RelayRefusedError, String(error));
    assert.equal(error.access, true);
    assert.equal(error.tokenPresented, true);
  } finally {
    wrong.close();
    right.close();
    relay.close();
    await listener.shutdown();
  }
});

Deno.test("RelayClient refuses a token that could end its header line", () => {
  for (const accessToken of ["a\r\nX-Injected: 1", "two words", ""]) {
    assert.throws(
      () =>
        RelayClient.connect({
          url: "http://127.0.0.1:1",
          secretKey: SecretKey.generate(),
          accessToken,
          onDatagram() {},
        }),
      TypeError,
    );
  }
});

Deno.test("RelayRefusedError keeps a relay's reason to one bounded line", () => {
  const error = new RelayRefusedError(
    "http://relay.test",
    `bad\r\nX-Forged: 1\n${"x".repeat(500)}`,
    true,
  );
  assert.ok(!/[\r\n]/.test(error.message), error.message);
  assert.ok(error.reason.length <= 200);
  assert.ok(error.access === false);
});
