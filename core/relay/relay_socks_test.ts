// The relay client's TCP connection through a SOCKS5 proxy (the `dial` hook): the relay's
// name goes to the proxy unresolved (only the test proxy knows `relay.test`, so a local
// lookup could not have reached it), reconnects go through the proxy too, QUIC through the
// relay works with both ends proxied, and TLS (wss://) runs over the proxied connection.
import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import { listenQuic } from "../transport/mod.ts";
import { connectThroughSocks5 } from "../socks/mod.ts";
import { startTestSocks5Server, type TestSocks5Server } from "../socks/_socks5_server_fixture.ts";
import { RelayClient } from "./client.ts";
import { dialViaRelay, serveViaRelay } from "./relay_path.ts";
import { serveRelay } from "./serve_relay.ts";
import { createRelayServer } from "./server.ts";
import type { WebSocketDial } from "./websocket_client.ts";
import { makeSelfSignedCertificate } from "../../tests/harness/mod.ts";

async function startRelay() {
  const relay = createRelayServer();
  const server = await serveRelay(relay, { hostname: "127.0.0.1", port: 0 });
  return {
    relay,
    port: server.port,
    async [Symbol.asyncDispose]() {
      relay.close();
      await server.shutdown();
    },
  };
}

function throughProxy(proxy: TestSocks5Server): WebSocketDial {
  return (hostname, port) =>
    connectThroughSocks5({ hostname: "127.0.0.1", port: proxy.port }, { hostname, port }, {
      timeoutMs: 5_000,
    });
}

async function until(check: () => boolean, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("not in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("relay client through a SOCKS5 proxy: the name unresolved, reconnects through it", async () => {
  await using r = await startRelay();
  await using proxy = startTestSocks5Server({ hosts: { "relay.test": "127.0.0.1" } });
  const proxiedKey = SecretKey.generate();
  const received: string[] = [];
  const proxied = RelayClient.connect({
    url: `http://relay.test:${r.port}`,
    secretKey: proxiedKey,
    dial: throughProxy(proxy),
    onDatagram: (_, payload) => received.push(new TextDecoder().decode(payload)),
  });
  const direct = RelayClient.connect({
    url: `http://127.0.0.1:${r.port}`,
    secretKey: SecretKey.generate(),
    onDatagram: () => {},
  });
  try {
    await Promise.all([proxied.ready(), direct.ready()]);
    assert.deepEqual(proxy.requests, [{
      addressType: 3,
      hostname: "relay.test",
      port: r.port,
      username: undefined,
    }]);
    direct.send(proxiedKey.endpointId.bytes, new TextEncoder().encode("ping"));
    await until(() => received.includes("ping"));

    // The proxy drops the connection: the client comes back through it, by name again.
    proxy.dropConnections();
    await until(() => !proxied.connected);
    await until(() => proxied.connected);
    assert.equal(proxy.requests.length, 2);
    assert.equal(proxy.requests[1].hostname, "relay.test");
    direct.send(proxiedKey.endpointId.bytes, new TextEncoder().encode("again"));
    await until(() => received.includes("again"));
  } finally {
    proxied.close();
    direct.close();
  }
});

Deno.test("relay client: a proxy that refuses is retried, never bypassed, and named", async () => {
  await using r = await startRelay();
  // This proxy knows no names: every CONNECT gets "host unreachable".
  await using proxy = startTestSocks5Server();
  const lines: string[] = [];
  const client = RelayClient.connect({
    url: `http://relay.test:${r.port}`,
    secretKey: SecretKey.generate(),
    dial: throughProxy(proxy),
    log: { debug: (line) => lines.push(line) },
    onDatagram: () => {},
  });
  try {
    // The error of ready() says why: the proxy's refusal, in one line.
    await assert.rejects(client.ready(2_500), (error: Error) => {
      assert.match(
        error.message,
        new RegExp(
          `^Cannot reach the relay http://relay\\.test:${r.port} within 2\\.5 s \\(last attempt: ` +
            `Cannot connect to relay\\.test:${r.port} through the SOCKS5 proxy 127\\.0\\.0\\.1:` +
            `${proxy.port}: the proxy refused: host unreachable \\(0x04\\); `,
        ),
      );
      assert.doesNotMatch(error.message, /[\r\n]/);
      return true;
    });
    assert.ok(proxy.requests.length >= 2, `${proxy.requests.length} attempts`);
    assert.ok(
      lines.some((l) => /the proxy refused: host unreachable \(0x04\)/.test(l)),
      lines.join("\n"),
    );
    assert.equal(r.relay.metrics.accepted, 0, "no connection reached the relay around the proxy");
  } finally {
    client.close();
  }
});

Deno.test("QUIC through a relay with both ends' relay connections proxied", async () => {
  await using r = await startRelay();
  await using proxy = startTestSocks5Server({ hosts: { "relay.test": "127.0.0.1" } });
  const relayUrl = `http://relay.test:${r.port}`;
  const alpn = "relay-socks-test/1";
  const key = SecretKey.generate();
  const listener = listenQuic({ hostname: "127.0.0.1", secretKey: key, alpn });
  const presence = serveViaRelay({
    relayUrl,
    secretKey: key,
    listenerPort: listener.addr.port,
    dial: throughProxy(proxy),
  });
  try {
    await presence.relay.ready();
    const accepted = listener.accept();
    const conn = await dialViaRelay({
      relayUrl,
      serverId: key.endpointId,
      alpn,
      dial: throughProxy(proxy),
      timeoutMs: 10_000,
    });
    const served = (await accepted)!;
    try {
      const stream = await conn.openStream();
      const writer = stream.writable.getWriter();
      await writer.write(new TextEncoder().encode("through the proxy"));
      await writer.close();
      const incoming = (await served.acceptStream())!;
      const text = await new Response(incoming.readable).text();
      assert.equal(text, "through the proxy");
      assert.equal(proxy.requests.length, 2);
      assert.ok(proxy.requests.every((q) => q.hostname === "relay.test" && q.addressType === 3));
    } finally {
      conn.close();
      served.close();
    }
  } finally {
    presence.close();
    listener.close();
  }
});

/** Runs the wss:// fixture with `cert` trusted; its one line of JSON. */
async function wssThroughProxy(cert: string, key: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${new URL("../../deno.test.json", import.meta.url).pathname}`,
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      new URL("./_wss_through_socks_fixture.ts", import.meta.url).pathname,
      cert,
      key,
    ],
    env: { DENO_CERT: cert },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!) as {
    connected: boolean;
    requests: { hostname: string; addressType: number }[];
    log: string[];
  };
}

Deno.test({
  name:
    "wss:// through a SOCKS5 proxy: TLS over the proxied connection, checked for the URL's name",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tunnel-wss-socks-" });
    try {
      const right = await makeSelfSignedCertificate(dir, "relay.test", "DNS:relay.test");
      const ok = await wssThroughProxy(right.cert, right.key);
      assert.ok(ok.connected, ok.log.join("\n"));
      assert.deepEqual(ok.requests.map((q) => [q.addressType, q.hostname]), [[3, "relay.test"]]);
      // A certificate for another name: the client refuses it over the same proxied path.
      const wrong = await makeSelfSignedCertificate(dir, "other.test", "DNS:other.test");
      const refused = await wssThroughProxy(wrong.cert, wrong.key);
      assert.equal(refused.connected, false);
      assert.ok(refused.requests.length >= 1);
      assert.ok(
        refused.log.some((l) => /certificate|NotValidForName|invalid peer/i.test(l)),
        refused.log.join("\n"),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
