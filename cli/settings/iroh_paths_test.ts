import assert from "node:assert/strict";
import { UsageError } from "../usage_error.ts";
import { PUBLIC_PKARR_URL, resolveIrohPaths } from "./iroh_paths.ts";

Deno.test("iroh paths: nothing named means iroh's public relays and pkarr relay", () => {
  assert.deepEqual(resolveIrohPaths({}, {}), {
    relayUrls: [],
    publicRelays: true,
    relayOnly: false,
    dnsServer: PUBLIC_PKARR_URL,
    publicDns: true,
  });
});

Deno.test("iroh paths: flags over config; an empty relay_urls and --no-relay mean no relay", () => {
  const file = { relay_urls: ["http://file.test/"], dns_server: "http://file.test/pkarr" };
  assert.deepEqual(resolveIrohPaths({ relayUrl: ["http://flag.test/"] }, file), {
    relayUrls: ["http://flag.test/"],
    publicRelays: false,
    relayOnly: false,
    dnsServer: "http://file.test/pkarr",
    publicDns: false,
  });
  assert.deepEqual(resolveIrohPaths({}, { relay_urls: [] }).relayUrls, []);
  assert.equal(resolveIrohPaths({}, { relay_urls: [] }).publicRelays, false);
  const none = resolveIrohPaths({ relay: false, dns: false }, file);
  assert.deepEqual(none, {
    relayUrls: [],
    publicRelays: false,
    relayOnly: false,
    dnsServer: undefined,
    publicDns: false,
  });
});

Deno.test("iroh paths: contradictions and malformed URLs are usage errors", () => {
  const cases: [Parameters<typeof resolveIrohPaths>, RegExp][] = [
    [[{ relay: false, relayUrl: ["http://a.test/"] }, {}], /--relay-url or --no-relay/],
    [[{ relay: false, relayOnly: true }, {}], /--relay-only needs a relay/],
    [[{ relayOnly: true }, { relay_urls: [] }], /relay_urls in the config is empty/],
    [[{ dns: false, dnsServer: "http://a.test/" }, {}], /--dns-server or --no-dns/],
    [[{ relayUrl: ["ftp://a.test/"] }, {}], /Invalid relay URL 'ftp:\/\/a.test\/'/],
    [[{ dnsServer: "dns.test" }, {}], /Invalid --dns-server 'dns.test'/],
    [[{ dnsServer: "dns://127.0.0.1:53" }, {}], /Invalid --dns-server .*name the zone/],
    [
      [{}, { dns_server: "dns://relay.test/dns.test" }, "c.toml"],
      /Invalid 'dns_server' of config 'c.toml' .*must be an IP address/,
    ],
    [
      [{}, { no_dns: true, dns_server: "http://a.test/" }, "s.toml"],
      /^Config 's.toml' sets both 'dns_server' and 'no_dns = true': keep one$/,
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => resolveIrohPaths(...args),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("iroh paths: `no_dns = true` in a config turns discovery off; --dns-server overrides it", () => {
  const off = resolveIrohPaths({}, { no_dns: true });
  assert.equal(off.dnsServer, undefined);
  assert.equal(off.publicDns, false);
  assert.equal(resolveIrohPaths({}, { no_dns: false }).dnsServer, PUBLIC_PKARR_URL);
  const flag = resolveIrohPaths({ dnsServer: "http://127.0.0.1:3340/pkarr" }, { no_dns: true });
  assert.equal(flag.dnsServer, "http://127.0.0.1:3340/pkarr");
});

Deno.test("iroh paths: --dns-server takes a DNS server as dns://IP:PORT/ORIGIN", () => {
  const paths = resolveIrohPaths({ dnsServer: "dns://127.0.0.1:5300/dns.test" }, {});
  assert.equal(paths.dnsServer, "dns://127.0.0.1:5300/dns.test");
  assert.equal(paths.publicDns, false);
});
