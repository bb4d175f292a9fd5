import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { resolveClientIrohSettings } from "./client_iroh.ts";

const token = generateToken();
const id = SecretKey.generate().endpointId.toString();
/** Every setting on the command line. */
const FLAGS = {
  serverNodeId: id,
  serverAddr: ["127.0.0.1:7000"],
  source: "tcp://127.0.0.1:22",
  target: "127.0.0.1:2222",
  authToken: token,
};

/** Asserts `promise` rejects with a {@linkcode UsageError} whose message matches `message`. */
async function rejectsAsUsage(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );
}

Deno.test("client settings take the config file and let flags override it", async () => {
  const id = SecretKey.generate().endpointId.toString();
  const config = parseConfig(
    `role = "client"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["127.0.0.1:1"]\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${token}"\n`,
    "c.toml",
    "client",
    "iroh",
  );
  const settings = await resolveClientIrohSettings({ target: "127.0.0.1:3333" }, config);
  assert.equal(settings.serverId.toString(), id);
  assert.deepEqual(settings.target, { host: "127.0.0.1", port: 3333 });
  assert.equal(settings.source.port, 22);
  await assert.rejects(
    () => resolveClientIrohSettings({ authToken: "ibad" }, config),
    /Invalid auth token/,
  );
  await assert.rejects(() => resolveClientIrohSettings({}), /Missing --server-node-id/);
});

Deno.test("the client token comes from the flags, else TUNNEL_AUTH_TOKEN, else the config file", async () => {
  const id = SecretKey.generate().endpointId.toString();
  const [fileToken, envToken, flagToken] = [generateToken(), generateToken(), generateToken()];
  const config = parseConfig(
    `role = "client"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["127.0.0.1:1"]\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${fileToken}"\n`,
    "c.toml",
    "client",
    "iroh",
  );
  const env = (value: string | undefined, readable = true) => ({
    authToken: { name: "TUNNEL_AUTH_TOKEN" as const, value, readable },
  });
  assert.equal(
    (await resolveClientIrohSettings({ authToken: flagToken }, config, env(envToken))).credential,
    flagToken,
  );
  assert.equal((await resolveClientIrohSettings({}, config, env(envToken))).credential, envToken);
  assert.equal((await resolveClientIrohSettings({}, config, env(undefined))).credential, fileToken);
  // Only the server's operator can issue a token: the messages send the user there.
  for (const [flags, e] of [[{ authToken: "ibad" }, env(undefined)], [{}, env("ibad")]] as const) {
    await assert.rejects(
      () => resolveClientIrohSettings(flags, config, e),
      (error: Error) =>
        error instanceof UsageError &&
        /^Invalid auth token in (--auth-token|TUNNEL_AUTH_TOKEN): /.test(error.message) &&
        /ask the server's operator for a valid token$/.test(error.message) &&
        !/generate-token/.test(error.message),
    );
  }
  await assert.rejects(
    () =>
      resolveClientIrohSettings(
        {
          serverNodeId: id,
          serverAddr: ["127.0.0.1:1"],
          source: "tcp://127.0.0.1:22",
          target: "127.0.0.1:0",
        },
        undefined,
        env(undefined, false),
      ),
    /^UsageError: Missing --auth-token .*ask the server's operator for one \(TUNNEL_AUTH_TOKEN was not read/,
  );
});

Deno.test("resolveClientIrohSettings() takes every flag over the config file", async () => {
  const otherId = SecretKey.generate().endpointId.toString();
  const config = parseConfig(
    `role = "client"\n[iroh]\nserver_node_id = "${otherId}"\nserver_addrs = ["192.0.2.1:1", "192.0.2.2:2"]\nrequest_source = "udp://10.0.0.1:53"\ntarget = "127.0.0.1:5353"\nauth_token = "${generateToken()}"\n`,
    "c.toml",
    "client",
    "iroh",
  );
  const settings = await resolveClientIrohSettings(FLAGS, config);
  assert.equal(settings.serverId.toString(), id);
  assert.deepEqual(settings.serverAddrs, [{ hostname: "127.0.0.1", port: 7000 }]);
  assert.deepEqual(settings.source, { protocol: "tcp", host: "127.0.0.1", port: 22 });
  assert.deepEqual(settings.target, { host: "127.0.0.1", port: 2222 });
  assert.equal(settings.credential, token);
  const fromFile = await resolveClientIrohSettings({}, config);
  assert.equal(fromFile.serverId.toString(), otherId);
  assert.equal(fromFile.serverAddrs.length, 2);
  assert.deepEqual(fromFile.source, { protocol: "udp", host: "10.0.0.1", port: 53 });
});

Deno.test("resolveClientIrohSettings() names each missing setting's flag and config key", async () => {
  const without = (key: keyof typeof FLAGS) => ({ ...FLAGS, [key]: undefined });
  await rejectsAsUsage(
    resolveClientIrohSettings(without("serverNodeId")),
    /^Missing --server-node-id \(or 'server_node_id' in the config file\)$/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...without("serverAddr"), dns: false }),
    /^No way to reach the server: pass --server-addr HOST:PORT/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings(without("source")),
    /^Missing --source \(or 'request_source' in the config file\)$/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings(without("target")),
    /^Missing --target \(or 'target' in the config file\)$/,
  );
});

Deno.test("resolveClientIrohSettings() names the flag of a bad or contradictory value", async () => {
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, serverAddr: ["127.0.0.1:1", "server.example"] }),
    /^Invalid --server-addr 'server\.example': expected host:port/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, target: "2222" }),
    /^Invalid --target address '2222'/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, source: "http://127.0.0.1:22" }),
    /^Invalid source 'http:\/\/127\.0\.0\.1:22': scheme must be tcp:\/\/ or udp:\/\//,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, serverNodeId: "abc" }),
    /^Invalid EndpointId 'abc'/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, authTokenFile: "token.txt" }),
    /^Use either --auth-token or --auth-token-file, not both$/,
  );
});

Deno.test("client settings: a relay alone is a way to reach the server; a bad relay URL is named", async () => {
  const { serverAddr: _, ...withoutAddr } = FLAGS;
  const settings = await resolveClientIrohSettings({
    ...withoutAddr,
    relayUrl: ["http://127.0.0.1:3340"],
  });
  assert.deepEqual(settings.relayUrls, ["http://127.0.0.1:3340"]);
  assert.deepEqual(settings.serverAddrs, []);
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...withoutAddr, dns: false }),
    /--server-addr .*, --relay-url .* or drop --no-dns/,
  );
  // A relay named is a way to the server: iroh's public pkarr relay is not asked.
  assert.equal(
    (await resolveClientIrohSettings({ ...withoutAddr, relayUrl: ["http://127.0.0.1:3340"] }))
      .dnsServer,
    undefined,
  );
  // With nothing but the EndpointId, the client looks the server up (iroh's pkarr relay).
  const byId = await resolveClientIrohSettings(withoutAddr);
  assert.equal(byId.dnsServer, "https://dns.iroh.link/pkarr");
  assert.equal(byId.discoveredRelays, true);
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, relayOnly: true }),
    /--relay-only dials no direct address: drop --server-addr/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...FLAGS, relayUrl: ["ftp://relay"] }),
    /Invalid relay URL 'ftp:\/\/relay'/,
  );
  const config = parseConfig(
    `role = "client"\n[iroh]\nrelay_urls = ["https://relay.example/"]\n`,
    "c.toml",
    "client",
    "iroh",
  );
  assert.deepEqual(
    (await resolveClientIrohSettings(withoutAddr, config)).relayUrls,
    ["https://relay.example/"],
  );
});

Deno.test("the client reconnects unless --no-reconnect or `reconnect = false` says not to", async () => {
  const withReconnect = (value: string) =>
    parseConfig(
      `role = "client"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["127.0.0.1:1"]\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${token}"\n${value}`,
      "c.toml",
      "client",
      "iroh",
    );
  assert.equal((await resolveClientIrohSettings(FLAGS)).reconnect, true);
  // commander's value for --no-reconnect, and its default otherwise.
  assert.equal((await resolveClientIrohSettings({ ...FLAGS, reconnect: false })).reconnect, false);
  assert.equal((await resolveClientIrohSettings({ ...FLAGS, reconnect: true })).reconnect, true);
  assert.equal(
    (await resolveClientIrohSettings({}, withReconnect("reconnect = false"))).reconnect,
    false,
  );
  assert.equal((await resolveClientIrohSettings({}, withReconnect(""))).reconnect, true);
  assert.equal(
    (await resolveClientIrohSettings({ reconnect: false }, withReconnect("reconnect = true")))
      .reconnect,
    false,
  );
  assert.throws(() => withReconnect(`reconnect = "no"`), UsageError);
});

Deno.test("client settings: server_addrs alone never asks public discovery; a named pkarr relay is still asked", async () => {
  const config = (extra: string) =>
    parseConfig(
      `role = "client"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["127.0.0.1:7000"]\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${token}"\n${extra}`,
      "c.toml",
      "client",
      "iroh",
    );
  const { serverAddr: _, ...withoutAddr } = FLAGS;
  assert.equal((await resolveClientIrohSettings(withoutAddr, config(""))).dnsServer, undefined);
  assert.equal((await resolveClientIrohSettings(FLAGS)).dnsServer, undefined);
  assert.equal(
    (await resolveClientIrohSettings(
      withoutAddr,
      config(`dns_server = "http://127.0.0.1:3340/pkarr"`),
    )).dnsServer,
    "http://127.0.0.1:3340/pkarr",
  );
  const off = parseConfig(
    `role = "client"\n[iroh]\nserver_node_id = "${id}"\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${token}"\nno_dns = true\n`,
    "c.toml",
    "client",
    "iroh",
  );
  await rejectsAsUsage(
    resolveClientIrohSettings(withoutAddr, off),
    /--server-addr .*, --relay-url .* or drop --no-dns/,
  );
});
