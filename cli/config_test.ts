import assert from "node:assert/strict";
import { parseConfig } from "./config.ts";
import { resolveServerIrohSettings } from "./commands/server_iroh.ts";
import { resolveClientIrohSettings } from "./commands/client_iroh.ts";
import { generateToken } from "../core/auth/mod.ts";
import { SecretKey } from "../core/identity/mod.ts";

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
