// The client-key settings: the files a user names (limits, bad lines), a server
// with keys, tokens or both, and which credential a client takes from where.
import assert from "node:assert/strict";
import { ClientKey, clientKeyFileText, generateToken } from "../../core/auth/mod.ts";
import { parseConfig } from "../config.ts";
import { UsageError } from "../usage_error.ts";
import { MAX_LIST_FILE_BYTES, MAX_TOKEN_FILE_BYTES } from "../user_file.ts";
import { loadAuthorizedKeys, loadClientKey } from "./client_key_files.ts";
import { resolveCredential } from "./iroh_client_settings.ts";
import { resolveIrohServerSettings } from "./iroh_server_settings.ts";

const dir = Deno.makeTempDirSync({ prefix: "client-keys-" });
const alice = ClientKey.generate();
const aliceFile = `${dir}/alice.key`;
Deno.writeTextFileSync(aliceFile, clientKeyFileText(alice, "alice"));
const keysFile = `${dir}/authorized_keys`;
Deno.writeTextFileSync(keysFile, `# team\n${alice.publicKey} alice-laptop\n`);

function isUsage(message: RegExp) {
  return (error: Error) => error instanceof UsageError && message.test(error.message);
}

Deno.test("client key files: a bad line is one usage line naming file and line", async () => {
  const bad = `${dir}/bad_keys`;
  await Deno.writeTextFile(bad, `${alice.publicKey} ok\n\nssh-ed25519 AAAA bob\n`);
  await assert.rejects(
    () => loadAuthorizedKeys(bad),
    isUsage(new RegExp(`^${bad}:3: Invalid authorized key: expected 'tunnelrsv1authpub:'[^\\n]*$`)),
  );
  assert.equal(
    (await loadAuthorizedKeys(keysFile)).find(alice.publicKey.bytes)?.comment,
    "alice-laptop",
  );
  await assert.rejects(() => loadAuthorizedKeys(`${dir}/none`), /no such file/);
});

Deno.test("client key files: files past their size limit are refused before being read", async () => {
  const big = `${dir}/big_keys`;
  // Comment lines only: the limit, not the content, refuses it.
  await Deno.writeTextFile(big, "#".repeat(MAX_LIST_FILE_BYTES) + "\n");
  await assert.rejects(() => loadAuthorizedKeys(big), /larger than the limit of 1 MiB/);
  const fits = `${dir}/fits_keys`;
  await Deno.writeTextFile(fits, "#".repeat(MAX_LIST_FILE_BYTES - 1) + "\n");
  assert.equal((await loadAuthorizedKeys(fits)).size, 0);
  const bigKey = `${dir}/big.key`;
  await Deno.writeTextFile(bigKey, "#".repeat(MAX_TOKEN_FILE_BYTES) + "\n" + alice.secretText());
  await assert.rejects(() => loadClientKey(bigKey), /larger than the limit of 4 KiB/);
  await assert.rejects(() => loadClientKey(keysFile), isUsage(/holds a public key/));
});

Deno.test("server: keys alone, tokens alone, or both; neither is refused", async () => {
  const token = generateToken();
  const keysOnly = await resolveIrohServerSettings({ authorizedKeys: keysFile });
  assert.equal(keysOnly.tokens.size, 0);
  assert.equal(keysOnly.authorizedKeys?.keys.size, 1);
  assert.equal(keysOnly.authorizedKeys?.file, keysFile);
  const both = await resolveIrohServerSettings({ authorizedKeys: keysFile, authTokens: [token] });
  assert.equal(both.tokens.size, 1);
  assert.equal(both.authorizedKeys?.keys.size, 1);
  assert.equal(
    (await resolveIrohServerSettings({ authTokens: [token] })).authorizedKeys,
    undefined,
  );
  await assert.rejects(
    () => resolveIrohServerSettings({}),
    isUsage(/^No auth tokens or client keys configured: .*--authorized-keys FILE/),
  );
  // The config file's key, its path resolved next to the file.
  const config = parseConfig(
    `role = "server"\n[iroh]\nauthorized_keys = "authorized_keys"\n`,
    `${dir}/server.toml`,
    "server",
    "iroh",
  );
  const fromConfig = await resolveIrohServerSettings({}, config);
  assert.equal(fromConfig.authorizedKeys?.file, keysFile);
});

Deno.test("client: --client-key, else a token's flags or TUNNEL_AUTH_TOKEN, else the config", async () => {
  const token = generateToken();
  const noEnv = {};
  const env = { authToken: { name: "TUNNEL_AUTH_TOKEN" as const, value: token, readable: true } };
  const key = await resolveCredential({ clientKey: aliceFile }, env, {}, undefined);
  assert.ok(key instanceof ClientKey && key.secretText() === alice.secretText());
  await assert.rejects(
    () => resolveCredential({ clientKey: aliceFile, authToken: token }, noEnv, {}, undefined),
    isUsage(/Use either --client-key or --auth-token/),
  );
  const fromConfig = await resolveCredential({}, noEnv, { client_key: aliceFile }, "c.toml");
  assert.ok(fromConfig instanceof ClientKey);
  // The environment's token comes before the config file, as for every setting.
  assert.equal(await resolveCredential({}, env, { client_key: aliceFile }, "c.toml"), token);
  assert.equal(
    await resolveCredential({ authToken: token }, noEnv, { client_key: aliceFile }, "c.toml"),
    token,
  );
  await assert.rejects(
    () => resolveCredential({}, noEnv, { client_key: aliceFile, auth_token: token }, "c.toml"),
    isUsage(/sets both 'client_key' and a token/),
  );
  await assert.rejects(
    () => resolveCredential({}, noEnv, {}, undefined),
    isUsage(/^Missing --auth-token .*--client-key FILE/),
  );
});
