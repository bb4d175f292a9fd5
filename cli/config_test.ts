import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";
import { resolveServerIrohSettings } from "./commands/server_iroh.ts";
import { resolveClientIrohSettings } from "./commands/client_iroh.ts";
import { generateToken } from "../core/auth/mod.ts";
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

Deno.test("a config asked for with its mode has that section's types", () => {
  const config = parseConfig(SERVER, "s.toml", "server", "iroh");
  const maxSessions: number | undefined = config.values.max_sessions;
  const tcp: string[] | undefined = config.values.allowed_sources?.tcp;
  assert.equal(maxSessions, 7);
  assert.deepEqual(tcp, ["127.0.0.0/8"]);
  const manual = parseConfig('role = "server"\nmode = "manual"\n', "m.toml", "server", "manual");
  // @ts-expect-error: max_sessions is a key of [iroh], not of [manual].
  assert.equal(manual.values.max_sessions, undefined);
});
