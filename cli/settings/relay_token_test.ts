import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";
import { RelayRefusedError } from "../../core/relay/mod.ts";
import { parseConfig } from "../config.ts";
import type { EnvSetting } from "../env.ts";
import { UsageError } from "../usage_error.ts";
import { clientIrohCommand, resolveClientIrohSettings } from "../commands/client_iroh.ts";
import {
  relayRefusalMessage,
  RelayToken,
  resolveRelayToken,
  urlCredentials,
} from "./relay_token.ts";
import { resolveServerIrohSettings, serverIrohCommand } from "../commands/server_iroh.ts";
import { resolveVpnClientSettings } from "../commands/vpn_client_run.ts";
import { resolveVpnServerSettings } from "../commands/vpn_server_run.ts";
import { vpnCommand } from "../commands/vpn.ts";

const RELAY = "http://relay.test:3340";
const SECRET = "relay-s3cret";
const authToken = generateToken();
const serverId = SecretKey.generate().endpointId.toString();
const CLIENT = {
  serverNodeId: serverId,
  source: "tcp://127.0.0.1:22",
  target: "127.0.0.1:2222",
  authToken,
  dns: false,
};
const SERVER = { authTokens: [authToken], allowedTcp: ["127.0.0.0/8"], dns: false };

const env = (value: string | undefined): EnvSetting => ({
  name: "TUNNEL_RELAY_TOKEN",
  value,
  readable: true,
});

async function rejectsAsUsage(promise: Promise<unknown>, message: string | RegExp) {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof UsageError, String(error));
    if (typeof message === "string") assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

Deno.test("RelayToken goes only to the origins of the relays named, and never prints", () => {
  const token = new RelayToken(SECRET, [`${RELAY}/`, "wss://other.test/relay"]);
  assert.equal(token.for(`${RELAY}/pkarr`), SECRET);
  assert.equal(token.for("ws://relay.test:3340/relay"), SECRET);
  assert.equal(token.for("https://other.test/pkarr"), SECRET);
  for (
    const elsewhere of [
      "https://dns.iroh.link/pkarr",
      "https://relay.test:3340/",
      "http://relay.test:3341/",
      "http://evil.relay.test:3340/",
      "https://euc1-1.relay.n0.iroh.link/",
      "not a url",
    ]
  ) {
    assert.equal(token.for(elsewhere), undefined, elsewhere);
  }
  for (
    const shown of [
      String(token),
      `${token}`,
      JSON.stringify({ token }),
      Deno.inspect({ token }),
    ]
  ) {
    assert.ok(!shown.includes(SECRET), shown);
  }
});

Deno.test("urlCredentials() finds a query or user info, and never quotes it", () => {
  assert.equal(urlCredentials(`${RELAY}/?token=${SECRET}`), "?token=");
  assert.equal(urlCredentials(`${RELAY}/relay?key=${SECRET}`), "a query (?…)");
  assert.equal(urlCredentials(`http://me:${SECRET}@relay.test/`), "user:pass@");
  assert.equal(urlCredentials(`http://${SECRET}@relay.test/`), "user@");
  assert.equal(urlCredentials(`${RELAY}/`), undefined);
});

Deno.test("a relay URL carrying credentials is refused at start-up, naming the flag to use", async () => {
  const line =
    "--relay-url must not carry credentials (found ?token=): pass the token with --relay-token or --relay-token-file";
  const relayUrl = [`${RELAY}/?token=${SECRET}`];
  await rejectsAsUsage(resolveServerIrohSettings({ ...SERVER, relayUrl }), line);
  await rejectsAsUsage(resolveClientIrohSettings({ ...CLIENT, relayUrl }), line);
  await rejectsAsUsage(resolveVpnServerSettings({ ...SERVER, relayUrl }), line);
  await rejectsAsUsage(resolveVpnClientSettings({ ...CLIENT, relayUrl }), line);
  await rejectsAsUsage(
    resolveServerIrohSettings({ ...SERVER, relayUrl: [`http://u:${SECRET}@relay.test/`] }),
    /^--relay-url must not carry credentials \(found user:pass@\)/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...CLIENT, dns: undefined, dnsServer: `${RELAY}/pkarr?t=x` }),
    /^--dns-server must not carry credentials \(found a query \(\?…\)\)/,
  );
  const config = parseConfig(
    `role = "server"\n[iroh]\nrelay_urls = ["${RELAY}/?token=${SECRET}"]\n`,
    "s.toml",
    "server",
    "iroh",
  );
  await rejectsAsUsage(
    resolveServerIrohSettings(SERVER, config),
    "'relay_urls' of config 's.toml' must not carry credentials (found ?token=): " +
      "put the token in 'relay_token' or 'relay_token_file'",
  );
});

Deno.test("the relay token comes from the flags, else TUNNEL_RELAY_TOKEN, else the config file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/flag`, "from-flag-file\n");
    await Deno.writeTextFile(`${dir}/config`, "from-config-file\n");
    const named = [`${RELAY}/`];
    const token = async (
      flags: { relayToken?: string; relayTokenFile?: string },
      value: string | undefined,
      file: { relay_token?: string; relay_token_file?: string },
    ) => (await resolveRelayToken(flags, env(value), file, "c.toml", named))?.for(RELAY);
    const config = { relay_token: "from-config" };
    const configFile = { relay_token_file: `${dir}/config` };
    assert.equal(await token({ relayToken: "from-flag" }, "from-env", config), "from-flag");
    assert.equal(
      await token({ relayTokenFile: `${dir}/flag` }, "from-env", config),
      "from-flag-file",
    );
    assert.equal(await token({}, "from-env", config), "from-env");
    assert.equal(await token({}, undefined, config), "from-config");
    assert.equal(await token({}, undefined, configFile), "from-config-file");
    assert.equal(await token({}, undefined, {}), undefined);
    await rejectsAsUsage(
      token({ relayToken: "a", relayTokenFile: `${dir}/flag` }, undefined, {}),
      "Use either --relay-token or --relay-token-file, not both",
    );
    await rejectsAsUsage(
      token({}, undefined, { ...config, ...configFile }),
      "Use either 'relay_token' or 'relay_token_file' in config 'c.toml', not both",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a relay token needs a named relay, and a malformed one is refused unquoted", async () => {
  // No --relay-url: iroh's public relays are third parties, the token must not go there.
  await rejectsAsUsage(
    resolveServerIrohSettings({ ...SERVER, relayToken: SECRET }),
    /^A relay token \(--relay-token\) is sent only to relays named with --relay-url/,
  );
  await rejectsAsUsage(
    resolveClientIrohSettings({ ...CLIENT, serverAddr: ["127.0.0.1:1"] }, undefined, {
      relayToken: env(SECRET),
    }),
    /^A relay token \(TUNNEL_RELAY_TOKEN\) is sent only to relays named/,
  );
  await assert.rejects(
    resolveServerIrohSettings({ ...SERVER, relayUrl: [RELAY], relayToken: `two ${SECRET}` }),
    (error: Error) => {
      assert.ok(error instanceof UsageError);
      assert.equal(
        error.message,
        "Invalid relay token in --relay-token: it may hold only printable ASCII characters, without spaces",
      );
      return true;
    },
  );
});

Deno.test("server and client settings carry the token for the named relays and their pkarr", async () => {
  const server = await resolveServerIrohSettings({
    ...SERVER,
    relayUrl: [RELAY],
    dns: undefined,
    dnsServer: `${RELAY}/pkarr`,
    relayToken: SECRET,
  });
  assert.equal(server.relayToken?.for(server.relayUrls[0]), SECRET);
  assert.equal(server.relayToken?.for(server.dnsServer!), SECRET);
  const client = await resolveClientIrohSettings({ ...CLIENT, relayUrl: [RELAY] }, undefined, {
    relayToken: env(SECRET),
  });
  assert.equal(client.relayToken?.for(`${RELAY}/`), SECRET);
  // A pkarr relay elsewhere (iroh's, the default) never gets it.
  const elsewhere = await resolveServerIrohSettings({
    ...SERVER,
    relayUrl: [RELAY],
    dns: undefined,
    relayToken: SECRET,
  });
  assert.equal(elsewhere.relayToken?.for(elsewhere.dnsServer!), undefined);
  const config = parseConfig(
    `role = "client"\n[iroh]\nrelay_urls = ["${RELAY}"]\nrelay_token = "${SECRET}"\n`,
    "c.toml",
    "client",
    "iroh",
  );
  const fromConfig = await resolveClientIrohSettings(CLIENT, config);
  assert.equal(fromConfig.relayToken?.for(RELAY), SECRET);
  const vpn = await resolveVpnClientSettings({ ...CLIENT, relayUrl: [RELAY] }, {
    relayToken: env(SECRET),
  });
  assert.equal(vpn.relayToken?.for(RELAY), SECRET);
});

Deno.test("every iroh command offers --relay-token and --relay-token-file", () => {
  const vpn = vpnCommand();
  for (const command of [serverIrohCommand(), clientIrohCommand(), ...vpn.commands]) {
    const longs = command.options.map((option) => option.long);
    assert.ok(longs.includes("--relay-token"), command.name());
    assert.ok(longs.includes("--relay-token-file"), command.name());
  }
});

Deno.test("relayRefusalMessage() says the relay refused the token, names the settings, not the token", () => {
  const refused = new RelayRefusedError(RELAY, "a valid access token is required", true);
  assert.equal(
    relayRefusalMessage(refused),
    `The relay ${RELAY} refused the relay token: a valid access token is required ` +
      "(check --relay-token or --relay-token-file, TUNNEL_RELAY_TOKEN or 'relay_token')",
  );
  const untold = new RelayRefusedError(RELAY, "HTTP 401 Unauthorized", false, 401);
  assert.match(relayRefusalMessage(untold), /refused this client: .*pass it with --relay-token/);
  const full = new RelayRefusedError(RELAY, "the relay is at its client limit", true);
  assert.equal(full.access, false);
  assert.equal(relayRefusalMessage(full), full.message);
});
