import assert from "node:assert/strict";
import { SecretKey, serverCredentials, serverNameFor, trustAnchorFor } from "./mod.ts";

async function handshake(serverKey: SecretKey, pinned: SecretKey["endpointId"]) {
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({ ...serverCredentials(serverKey), alpnProtocols: ["t/1"] });
  const accepting = listener.incoming().then((i) => i.accept()).then(
    (c) => c.close(),
    () => {},
  );
  try {
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: endpoint.addr.port,
      serverName: serverNameFor(pinned),
      caCerts: [trustAnchorFor(pinned)],
      alpnProtocols: ["t/1"],
    });
    conn.close();
  } finally {
    await accepting;
    endpoint.close();
  }
}

Deno.test("a client pinned to the server's EndpointId completes the QUIC handshake", async () => {
  const key = SecretKey.generate();
  await handshake(key, key.endpointId);
});

Deno.test("a client pinned to another EndpointId is refused by certificate", async () => {
  await assert.rejects(
    () => handshake(SecretKey.generate(), SecretKey.generate().endpointId),
    /invalid peer certificate/,
  );
});

Deno.test("serverCredentials() is deterministic PEM for one key", () => {
  const key = SecretKey.generate();
  const a = serverCredentials(key);
  assert.deepEqual(serverCredentials(key), a);
  assert.match(a.cert, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(a.key, /^-----BEGIN PRIVATE KEY-----\n/);
});
