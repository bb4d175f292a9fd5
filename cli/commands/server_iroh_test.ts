import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { resolveServerIrohSettings } from "./server_iroh.ts";
import { DEFAULT_MAX_SESSIONS } from "../settings/iroh_server_settings.ts";

const token = generateToken();
const SERVER = `
role = "server"
mode = "iroh"
[iroh]
max_sessions = 7
auth_tokens = ["${token}"]
secret_file = "keys/server.key"
[iroh.allowed_sources]
tcp = ["127.0.0.0/8"]
udp = ["10.0.0.0/8"]
`;
/** The least a server needs on the command line. */
const MINIMAL = { authTokens: [token], allowedTcp: ["127.0.0.0/8"] };

/** Asserts `promise` rejects with a {@linkcode UsageError} whose message matches `message`. */
async function rejectsAsUsage(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(
    promise,
    (error: Error) => error instanceof UsageError && message.test(error.message),
  );
}

Deno.test("CLI flags override config values; the rest comes from the file", async () => {
  const key = SecretKey.generate();
  const config = parseConfig(
    SERVER.replace(/secret_file.*/, `secret = "${key.toBase64()}"`),
    "s.toml",
    "server",
    "iroh",
  );
  const fromFile = await resolveServerIrohSettings({}, config);
  assert.equal(fromFile.maxSessions, 7);
  assert.ok(fromFile.secretKey.endpointId.equals(key.endpointId));
  assert.ok(!fromFile.freshKey);
  assert.deepEqual(fromFile.allowedTcp.networks.map((n) => n.text), ["127.0.0.0/8"]);
  const overridden = await resolveServerIrohSettings(
    { maxSessions: 3, allowedTcp: ["10.0.0.0/8"], bind: "127.0.0.1:4000" },
    config,
  );
  assert.equal(overridden.maxSessions, 3);
  assert.deepEqual(overridden.allowedTcp.networks.map((n) => n.text), ["10.0.0.0/8"]);
  assert.deepEqual(overridden.allowedUdp.networks.map((n) => n.text), ["10.0.0.0/8"]);
  assert.deepEqual(overridden.bind, { host: "127.0.0.1", port: 4000 });
});

Deno.test("server settings refuse a missing token list or allowlist", async () => {
  await assert.rejects(
    () => resolveServerIrohSettings({ allowedTcp: ["127.0.0.0/8"] }),
    /No auth tokens or client keys configured/,
  );
  await assert.rejects(
    () => resolveServerIrohSettings({ authTokens: [token] }),
    /No allowed networks/,
  );
  await assert.rejects(
    () => resolveServerIrohSettings({ authTokens: [token], allowedTcp: ["127.0.0.0/33"] }),
    /Invalid CIDR/,
  );
});

Deno.test("server tokens come from the flags, else TUNNEL_AUTH_TOKENS, else the config file", async () => {
  const [flagToken, envA, envB] = [generateToken(), generateToken(), generateToken()];
  const config = parseConfig(SERVER.replace(/secret_file.*/, ""), "s.toml", "server", "iroh");
  const has = (set: { has(t: Uint8Array): boolean }, t: string) =>
    set.has(new TextEncoder().encode(t));
  const env = {
    authTokens: {
      name: "TUNNEL_AUTH_TOKENS" as const,
      value: `${envA}, ${envB}\n`,
      readable: true,
    },
  };

  const fromFlag = await resolveServerIrohSettings({ authTokens: [flagToken] }, config, env);
  assert.ok(has(fromFlag.tokens, flagToken) && !has(fromFlag.tokens, envA));
  const fromEnv = await resolveServerIrohSettings({}, config, env);
  assert.equal(fromEnv.tokens.size, 2);
  assert.ok(has(fromEnv.tokens, envA) && has(fromEnv.tokens, envB) && !has(fromEnv.tokens, token));
  const fromFile = await resolveServerIrohSettings({}, config, {
    authTokens: { ...env.authTokens, value: undefined },
  });
  assert.ok(has(fromFile.tokens, token) && fromFile.tokens.size === 1);

  await assert.rejects(
    () =>
      resolveServerIrohSettings({}, config, { authTokens: { ...env.authTokens, value: "inope" } }),
    (error: Error) =>
      error instanceof UsageError && /Invalid auth token in TUNNEL_AUTH_TOKENS/.test(error.message),
  );
  await assert.rejects(
    () =>
      resolveServerIrohSettings({ allowedTcp: ["127.0.0.0/8"] }, undefined, {
        authTokens: { name: "TUNNEL_AUTH_TOKENS", value: undefined, readable: false },
      }),
    /No auth tokens or client keys configured: .*TUNNEL_AUTH_TOKENS \(TUNNEL_AUTH_TOKENS was not read: add it to Deno's --allow-env\)$/,
  );
});

Deno.test("resolveServerIrohSettings() defaults: fresh key, [::]:0, 100 sessions", async () => {
  const settings = await resolveServerIrohSettings(MINIMAL);
  assert.ok(settings.freshKey);
  assert.deepEqual(settings.bind, { host: "::", port: 0 });
  assert.equal(settings.maxSessions, DEFAULT_MAX_SESSIONS);
  assert.deepEqual(settings.allowedUdp.networks, []);
});

Deno.test("resolveServerIrohSettings() takes --secret over the config's key", async () => {
  const [flagKey, fileKey] = [SecretKey.generate(), SecretKey.generate()];
  const config = parseConfig(
    SERVER.replace(/secret_file.*/, `secret = "${fileKey.toBase64()}"\nbind = "127.0.0.1:1"`),
    "s.toml",
    "server",
    "iroh",
  );
  const settings = await resolveServerIrohSettings({ secret: flagKey.toBase64() }, config);
  assert.ok(settings.secretKey.endpointId.equals(flagKey.endpointId));
  assert.deepEqual(settings.bind, { host: "127.0.0.1", port: 1 });
});

Deno.test("resolveServerIrohSettings() names the flag of a bad or contradictory value", async () => {
  const key = SecretKey.generate().toBase64();
  await rejectsAsUsage(
    resolveServerIrohSettings({ ...MINIMAL, secret: key, secretFile: "k" }),
    /^Use either --secret or --secret-file, not both$/,
  );
  await rejectsAsUsage(
    resolveServerIrohSettings({ ...MINIMAL, bind: "localhost" }),
    /^Invalid --bind address 'localhost'/,
  );
  await rejectsAsUsage(
    resolveServerIrohSettings({ ...MINIMAL, authTokens: ["inope"] }),
    /^Invalid auth token in --auth-tokens: .*'tunnel generate-token'$/,
  );
  await rejectsAsUsage(
    resolveServerIrohSettings({ authTokens: [token], allowedUdp: ["10.0.0.1/8"] }),
    /^Invalid CIDR '10\.0\.0\.1\/8': host bits are set/,
  );
});

Deno.test("resolveServerIrohSettings() names the config key of a bad value", async () => {
  const config = parseConfig(
    SERVER.replace("max_sessions = 7", "max_sessions = 0").replace(/secret_file.*/, ""),
    "s.toml",
    "server",
    "iroh",
  );
  await rejectsAsUsage(
    resolveServerIrohSettings({}, config),
    /^Invalid max_sessions 0: must be a positive integer$/,
  );
  const badToken = parseConfig(
    SERVER.replace(token, "inope").replace(/secret_file.*/, ""),
    "/etc/tunnel/s.toml",
    "server",
    "iroh",
  );
  await rejectsAsUsage(
    resolveServerIrohSettings({}, badToken),
    /^Invalid auth token in 'auth_tokens' of config '\/etc\/tunnel\/s\.toml': /,
  );
});

Deno.test("server settings: iroh's public relays and pkarr relay unless told otherwise", async () => {
  const defaults = await resolveServerIrohSettings(MINIMAL);
  assert.equal(defaults.publicRelays, true);
  assert.deepEqual(defaults.relayUrls, []);
  assert.equal(defaults.dnsServer, "https://dns.iroh.link/pkarr");
  const offline = await resolveServerIrohSettings({ ...MINIMAL, relay: false, dns: false });
  assert.equal(offline.publicRelays, false);
  assert.deepEqual(offline.relayUrls, []);
  assert.equal(offline.dnsServer, undefined);
});

Deno.test("server settings: --relay-only keeps the listener on loopback and refuses --bind", async () => {
  const relayOnly = await resolveServerIrohSettings({
    ...MINIMAL,
    relayUrl: ["http://127.0.0.1:3340"],
    relayOnly: true,
  });
  assert.equal(relayOnly.relayOnly, true);
  assert.deepEqual(relayOnly.bind, { host: "127.0.0.1", port: 0 });
  await rejectsAsUsage(
    resolveServerIrohSettings({ ...MINIMAL, relayOnly: true, bind: "0.0.0.0:7000" }),
    /^--relay-only offers no direct address: drop --bind/,
  );
});
