import assert from "node:assert/strict";
import { parseRelayConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { DEFAULT_STUN_BIND, resolveRelaySettings } from "./relay.ts";
import { DEFAULT_MAX_CLIENTS } from "../../core/relay/mod.ts";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_RECORDS } from "../../core/discovery/mod.ts";

const ID = "2xnbkpbc7izsilvewd7c62w7wnwziacmpfwvhcrya5nt76dqkpga";

Deno.test("relay settings: defaults", async () => {
  const settings = await resolveRelaySettings({ stun: true });
  assert.deepEqual(settings.bind, { host: "::", port: 3340 });
  assert.equal(settings.tls, undefined);
  assert.equal(settings.httpBind, undefined);
  assert.deepEqual(settings.stunBind, {
    host: "::",
    port: Number(DEFAULT_STUN_BIND.split(":").pop()),
  });
  assert.deepEqual(settings.accessTokens, []);
  assert.equal(settings.allowedEndpoints, undefined);
  assert.equal(settings.maxClients, DEFAULT_MAX_CLIENTS);
  assert.equal(settings.maxRecords, DEFAULT_MAX_RECORDS);
  assert.equal(settings.recordsFile, undefined, "records in memory only");
});

Deno.test("relay settings: the [relay] section, paths against the file's folder, flags win", async () => {
  const config = parseRelayConfig(
    `[relay]
bind = "127.0.0.1:8080"
http_bind = "127.0.0.1:8081"
tls_cert = "cert.pem"
tls_key = "/etc/key.pem"
stun = false
access_tokens = ["alpha"]
allowed_endpoints = ["${ID}"]
max_clients = 9
rate_limit = 1000
max_records = 500
records_file = "records.sqlite"
`,
    "/srv/relay/relay.toml",
  );
  const settings = await resolveRelaySettings({ stun: true }, config);
  assert.deepEqual(settings.bind, { host: "127.0.0.1", port: 8080 });
  assert.deepEqual(settings.httpBind, { host: "127.0.0.1", port: 8081 });
  assert.deepEqual(settings.tls, { certFile: "/srv/relay/cert.pem", keyFile: "/etc/key.pem" });
  assert.equal(settings.stunBind, undefined);
  assert.deepEqual(settings.accessTokens, ["alpha"]);
  assert.equal(settings.allowedEndpoints?.[0].toString(), ID);
  assert.equal(settings.maxClients, 9);
  assert.equal(settings.rateLimitBytesPerSecond, 1000);
  assert.equal(settings.maxRecords, 500);
  assert.equal(settings.recordsFile, "/srv/relay/records.sqlite");
  const overridden = await resolveRelaySettings(
    {
      stun: true,
      bind: "127.0.0.1:1",
      httpBind: "[::1]:80",
      maxClients: 2,
      accessToken: ["beta"],
      maxRecords: 7,
      recordsFile: "/var/lib/tunnel/records.sqlite",
    },
    config,
  );
  assert.deepEqual(overridden.bind, { host: "127.0.0.1", port: 1 });
  assert.deepEqual(overridden.httpBind, { host: "::1", port: 80 });
  assert.equal(overridden.maxClients, 2);
  assert.deepEqual(overridden.accessTokens, ["beta"]);
  assert.equal(overridden.maxRecords, 7);
  assert.equal(overridden.recordsFile, "/var/lib/tunnel/records.sqlite");
});

Deno.test("relay settings: bad values and contradictions name the setting", async () => {
  const cases: [Parameters<typeof resolveRelaySettings>, RegExp][] = [
    [[{ tlsCert: "a.pem" }], /--tls-cert and --tls-key together/],
    [[{ stun: false, stunBind: "[::]:1" }], /--no-stun or --stun-bind/],
    [[{}, { max_clients: 0 }], /Invalid max_clients 0/],
    [[{}, { max_records: -1 }], /Invalid max_records -1/],
    [[{}, { allowed_endpoints: ["nope"] }], /nope|EndpointId/],
    [[{ bind: "nowhere" }], /--bind address/],
    [[{ httpBind: "[::]:80" }], /--http-bind needs --tls-cert and --tls-key/],
    [[{}, { http_bind: "[::]:80" }], /--http-bind needs --tls-cert/],
    [[{ httpBind: "nowhere", tlsCert: "a.pem", tlsKey: "a.key" }], /--http-bind address/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(
      resolveRelaySettings(...args),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("relay config: unknown keys, other sections and wrong types are refused", () => {
  assert.throws(() => parseRelayConfig("[relay]\nbnd = 1\n", "r.toml"), /unknown key 'relay\.bnd'/);
  assert.throws(() => parseRelayConfig("[iroh]\n", "r.toml"), /unknown key 'iroh'/);
  assert.throws(
    () => parseRelayConfig("[relay]\nstun = 1\n", "r.toml"),
    /'relay\.stun' must be true or false/,
  );
  assert.throws(() => parseRelayConfig("[relay\n", "r.toml"), /not valid TOML/);
});

Deno.test("relay settings: --dns-bind and --dns-origin, together, from flags or the config", async () => {
  assert.equal((await resolveRelaySettings({})).dns, undefined);
  const flags = await resolveRelaySettings({ dnsBind: "127.0.0.1:5300", dnsOrigin: "DNS.Test." });
  assert.deepEqual(flags.dns, { bind: { host: "127.0.0.1", port: 5300 }, origin: "dns.test" });
  const config = await resolveRelaySettings({ dnsOrigin: "flag.test" }, {
    dns_bind: "[::]:53",
    dns_origin: "file.test",
  });
  assert.deepEqual(config.dns, { bind: { host: "::", port: 53 }, origin: "flag.test" });
  for (
    const [flagsGiven, message] of [
      [{ dnsBind: "127.0.0.1:53" }, /Use --dns-bind and --dns-origin together/],
      [{ dnsOrigin: "x.test" }, /Use --dns-bind and --dns-origin together/],
      [{ dnsBind: "127.0.0.1", dnsOrigin: "x.test" }, /--dns-bind address/],
      [{ dnsBind: "127.0.0.1:53", dnsOrigin: "x..test" }, /Invalid DNS origin 'x..test'/],
    ] as const
  ) {
    await assert.rejects(
      resolveRelaySettings(flagsGiven),
      (e) => e instanceof UsageError && message.test(e.message),
    );
  }
});

Deno.test("relay settings: the records' byte bound grows with --max-records, never below the default", async () => {
  const bytes = async (maxRecords?: number) =>
    (await resolveRelaySettings({ stun: true, maxRecords })).maxRecordBytes;
  assert.equal(await bytes(), DEFAULT_MAX_BYTES);
  assert.equal(await bytes(500), DEFAULT_MAX_BYTES);
  assert.equal(await bytes(DEFAULT_MAX_RECORDS * 2), DEFAULT_MAX_BYTES * 2);
});

Deno.test("relay settings: --dht, --dht-bootstrap and the config's dht keys", async () => {
  assert.equal((await resolveRelaySettings({ stun: true })).dht, undefined);
  assert.equal((await resolveRelaySettings({ stun: true, dht: true })).dht?.publicBootstrap, true);
  const named = await resolveRelaySettings({ stun: true }, { dht_bootstrap: ["10.0.0.1:6881"] });
  assert.deepEqual(named.dht?.bootstrap, [{ hostname: "10.0.0.1", port: 6881 }]);
  await assert.rejects(
    resolveRelaySettings({ stun: true, dht: false, dhtBootstrap: ["10.0.0.1:1"] }),
    UsageError,
  );
});
