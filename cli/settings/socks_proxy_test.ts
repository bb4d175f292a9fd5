import assert from "node:assert/strict";
import { UsageError } from "../usage_error.ts";
import { resolveIrohPaths } from "./iroh_paths.ts";
import { isOnionUrl, resolveSocksProxy } from "./socks_proxy.ts";

const ONION = "http://2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion/";

Deno.test("--socks5-proxy: onion relays through Tor, discovery off", () => {
  const paths = resolveIrohPaths(
    { socks5Proxy: "socks5h://127.0.0.1:9050", relayUrl: [ONION] },
    {},
  );
  assert.deepEqual(paths.socks5Proxy, { hostname: "127.0.0.1", port: 9050 });
  assert.equal(paths.dnsServer, undefined, "no lookup or publish through Tor");
  assert.equal(paths.publicDns, false);
  assert.deepEqual(paths.relayUrls, [ONION]);
  const fromConfig = resolveIrohPaths({}, {
    socks5_proxy: "socks5h://tor.local:9150",
    relay_urls: [ONION],
  });
  assert.deepEqual(fromConfig.socks5Proxy, { hostname: "tor.local", port: 9150 });
});

Deno.test("--socks5-proxy: each wrong combination is one line", () => {
  const cases: [Parameters<typeof resolveIrohPaths>[0], RegExp][] = [
    [{ socks5Proxy: "socks5://127.0.0.1:9050", relayUrl: [ONION] }, /use socks5h:\/\//],
    [{ socks5Proxy: "http://127.0.0.1:9050", relayUrl: [ONION] }, /use socks5h:\/\/HOST:PORT/],
    [{ socks5Proxy: "socks5h://127.0.0.1", relayUrl: [ONION] }, /no port/],
    [{ socks5Proxy: "socks5h://127.0.0.1:9050" }, /only \.onion relays: name yours/],
    [
      { socks5Proxy: "socks5h://127.0.0.1:9050", relayUrl: [ONION, "https://relay.example/"] },
      /https:\/\/relay\.example\/ is not one/,
    ],
    [
      { socks5Proxy: "socks5h://127.0.0.1:9050", relayUrl: [ONION], dnsServer: "http://a.test/" },
      /--socks5-proxy or --dns-server/,
    ],
    [
      { socks5Proxy: "socks5h://127.0.0.1:9050", relayUrl: [ONION], dht: true },
      /or the DHT/,
    ],
    [{ relayUrl: [ONION] }, /is a Tor onion service: pass --socks5-proxy/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(() => resolveIrohPaths(flags, {}), (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    }, JSON.stringify(flags));
  }
});

Deno.test("resolveSocksProxy(): none without the flag and without onion relays; a password is never shown", () => {
  assert.equal(
    resolveSocksProxy({}, {}, { relayUrls: ["https://r.test/"], publicRelays: false }),
    undefined,
  );
  assert.throws(
    () =>
      resolveSocksProxy({ socks5Proxy: "socks5://u:hunter2@127.0.0.1:9050" }, {}, {
        relayUrls: [ONION],
        publicRelays: false,
      }),
    (error: Error) => !error.message.includes("hunter2"),
  );
  assert.ok(isOnionUrl(ONION));
  assert.ok(!isOnionUrl("http://onion.example/"));
  assert.ok(!isOnionUrl("not a url"));
});
