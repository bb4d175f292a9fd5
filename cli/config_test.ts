import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";
import { resolveServerIrohSettings } from "./commands/server_iroh.ts";
import { resolveClientIrohSettings } from "./commands/client_iroh.ts";
import { generateToken } from "../core/auth/mod.ts";
import { SecretKey } from "../core/identity/mod.ts";
import { UsageError } from "./usage_error.ts";

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

Deno.test("parseConfig() reads the iroh section and resolves paths against the file", () => {
  const config = parseConfig(SERVER, "/etc/tunnel/server.toml", "server");
  assert.equal(config.mode, "iroh");
  assert.equal(config.values.max_sessions, 7);
  assert.equal(config.values.secret_file, "/etc/tunnel/keys/server.key");
});

Deno.test("parseConfig() names a wrong role, mode, unknown key or bad value", () => {
  const cases: [string, RegExp][] = [
    [
      SERVER.replace('role = "server"', 'role = "client"'),
      /role is 'client' but this is the 'server' command/,
    ],
    [SERVER.replace('mode = "iroh"', 'mode = "carrier-pigeon"'), /unknown mode 'carrier-pigeon'/],
    [SERVER.replace("max_sessions = 7", "max_session = 7"), /unknown key 'iroh.max_session'/],
    [
      SERVER.replace("max_sessions = 7", 'max_sessions = "7"'),
      /'iroh.max_sessions' must be an integer/,
    ],
    [
      SERVER.replace('udp = ["10.0.0.0/8"]', "udp = 5"),
      /'iroh.allowed_sources.udp' must be a list of strings/,
    ],
    [SERVER + "\n[extra]\n", /unknown key 'extra'/],
    ["role = ", /not valid TOML/],
    ['mode = "iroh"', /missing 'role'/],
  ];
  for (const [text, error] of cases) {
    assert.throws(() => parseConfig(text, "s.toml", "server"), error);
  }
  assert.throws(
    () => parseConfig(SERVER, "s.toml", "server", "manual"),
    /mode is 'iroh' but the command asks for 'manual'/,
  );
});

Deno.test("CLI flags override config values; the rest comes from the file", async () => {
  const key = SecretKey.generate();
  const config = parseConfig(
    SERVER.replace(/secret_file.*/, `secret = "${key.toBase64()}"`),
    "s.toml",
    "server",
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
    /No auth tokens configured/,
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

Deno.test("client settings take the config file and let flags override it", async () => {
  const id = SecretKey.generate().endpointId.toString();
  const config = parseConfig(
    `role = "client"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["127.0.0.1:1"]\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${token}"\n`,
    "c.toml",
    "client",
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

Deno.test("a [manual] config reads its section and infers the mode", () => {
  const server = parseConfig(
    'role = "server"\nmode = "manual"\n[manual]\nstun_servers = ["198.51.100.1:3478"]\n[manual.allowed_sources]\ntcp = ["127.0.0.0/8"]\n',
    "s.toml",
    "server",
  );
  assert.equal(server.mode, "manual");
  assert.deepEqual(server.values.stun_servers, ["198.51.100.1:3478"]);
  assert.throws(
    () =>
      parseConfig('role = "client"\nmode = "manual"\n[manual]\nsecret = "x"\n', "c.toml", "client"),
    /unknown key 'manual.secret'/,
  );
});

Deno.test("server tokens come from the flags, else TUNNEL_AUTH_TOKENS, else the config file", async () => {
  const [flagToken, envA, envB] = [generateToken(), generateToken(), generateToken()];
  const config = parseConfig(SERVER.replace(/secret_file.*/, ""), "s.toml", "server");
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
    /No auth tokens configured: .*TUNNEL_AUTH_TOKENS \(TUNNEL_AUTH_TOKENS was not read: add it to Deno's --allow-env\)$/,
  );
});

Deno.test("the client token comes from the flags, else TUNNEL_AUTH_TOKEN, else the config file", async () => {
  const id = SecretKey.generate().endpointId.toString();
  const [fileToken, envToken, flagToken] = [generateToken(), generateToken(), generateToken()];
  const config = parseConfig(
    `role = "client"\n[iroh]\nserver_node_id = "${id}"\nserver_addrs = ["127.0.0.1:1"]\nrequest_source = "tcp://127.0.0.1:22"\ntarget = "127.0.0.1:2222"\nauth_token = "${fileToken}"\n`,
    "c.toml",
    "client",
  );
  const env = (value: string | undefined, readable = true) => ({
    authToken: { name: "TUNNEL_AUTH_TOKEN" as const, value, readable },
  });
  assert.equal(
    (await resolveClientIrohSettings({ authToken: flagToken }, config, env(envToken))).token,
    flagToken,
  );
  assert.equal((await resolveClientIrohSettings({}, config, env(envToken))).token, envToken);
  assert.equal((await resolveClientIrohSettings({}, config, env(undefined))).token, fileToken);
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

Deno.test("settings problems are usage errors; unreadable files are not", async () => {
  const usage = (error: unknown): boolean => error instanceof UsageError;
  await assert.rejects(() => resolveClientIrohSettings({}), usage);
  await assert.rejects(
    () => resolveServerIrohSettings({ authTokens: [token], allowedTcp: ["x"] }),
    usage,
  );
  await assert.rejects(
    () =>
      resolveServerIrohSettings({ authTokens: [token], allowedTcp: ["127.0.0.0/8"], bind: "7000" }),
    usage,
  );
  assert.throws(
    () => parseConfig("role = 1", "s.toml", "server"),
    (e) => e instanceof ConfigError && usage(e),
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.key`, "not a key\n");
    await assert.rejects(
      () =>
        resolveServerIrohSettings({
          authTokens: [token],
          allowedTcp: ["127.0.0.0/8"],
          secretFile: `${dir}/bad.key`,
        }),
      (error: Error) => usage(error) && /Invalid secret key file/.test(error.message),
    );
    await assert.rejects(
      () =>
        resolveServerIrohSettings({
          authTokens: [token],
          allowedTcp: ["127.0.0.0/8"],
          secretFile: `${dir}/none.key`,
        }),
      (error: Error) =>
        !usage(error) &&
        /Cannot read secret key file '.*none\.key': no such file/.test(error.message),
    );
    await assert.rejects(
      () =>
        resolveServerIrohSettings({
          authTokensFile: `${dir}/none.txt`,
          allowedTcp: ["127.0.0.0/8"],
        }),
      (error: Error) => !usage(error) && /Cannot read tokens file/.test(error.message),
    );
    await assert.rejects(
      () => loadConfig(`${dir}/none.toml`, "server"),
      (error: Error) => !usage(error),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
