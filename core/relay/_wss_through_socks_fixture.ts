/**
 * A child process of relay_socks_test.ts, run with DENO_CERT naming the
 * certificate (Deno reads its trust anchors at start-up only): a relay serving
 * HTTPS on 127.0.0.1, a test SOCKS5 proxy that alone knows the name
 * `relay.test`, and a relay client given `https://relay.test:PORT` that dials
 * through the proxy. Prints one JSON line: whether it connected, and the
 * proxy's requests.
 *
 * Usage: `deno run -A core/relay/_wss_through_socks_fixture.ts CERT_FILE KEY_FILE`
 * @module
 */
import { SecretKey } from "../identity/mod.ts";
import { connectThroughSocks5 } from "../socks/mod.ts";
import { startTestSocks5Server } from "../socks/_socks5_server_fixture.ts";
import { RelayClient } from "./client.ts";
import { serveRelay } from "./serve_relay.ts";
import { createRelayServer } from "./server.ts";

const [certFile, keyFile] = Deno.args;
const relay = createRelayServer();
const server = await serveRelay(relay, {
  hostname: "127.0.0.1",
  port: 0,
  tls: { cert: await Deno.readTextFile(certFile), key: await Deno.readTextFile(keyFile) },
});
const proxy = startTestSocks5Server({ hosts: { "relay.test": "127.0.0.1" } });
const errors: string[] = [];
const client = RelayClient.connect({
  url: `https://relay.test:${server.port}`,
  secretKey: SecretKey.generate(),
  onDatagram() {},
  log: { debug: (line) => errors.push(line) },
  dial: (hostname, port) =>
    connectThroughSocks5({ hostname: "127.0.0.1", port: proxy.port }, { hostname, port }, {
      timeoutMs: 5_000,
    }),
});
let connected = false;
try {
  await client.ready(5_000);
  connected = true;
} catch { /* reported below */ }
client.close();
relay.close();
await server.shutdown();
await proxy.close();
console.log(JSON.stringify({ connected, requests: proxy.requests, log: errors }));
