import assert from "node:assert/strict";
import {
  authorizedKeyLine,
  ClientKey,
  ClientKeyFileError,
  clientKeyFileText,
  ClientPublicKey,
  MAX_KEY_COMMENT_LENGTH,
  parseClientKeyFile,
} from "./client_key.ts";

// RFC 8032's first Ed25519 test vector, in tunnel-rs's text forms (URL-safe
// base64 without padding: both keys happen to hold '-' or '_').
const SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const SECRET_TEXT = "tunnelrsv1authsecret:nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const PUBLIC_TEXT = "tunnelrsv1authpub:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const seed = Uint8Array.from(SEED_HEX.match(/../g)!, (h) => parseInt(h, 16));

Deno.test("client keys: RFC 8032's vector gives tunnel-rs's texts both ways", () => {
  const key = new ClientKey(seed);
  assert.equal(key.secretText(), SECRET_TEXT);
  assert.equal(key.publicKey.toString(), PUBLIC_TEXT);
  assert.equal(ClientKey.parse(SECRET_TEXT).publicKey.toString(), PUBLIC_TEXT);
  assert.deepEqual(ClientPublicKey.parse(PUBLIC_TEXT).bytes, key.publicKey.bytes);
  // Printing a key by mistake shows its public half only.
  assert.ok(!String(key).includes(SECRET_TEXT.split(":")[1]));
});

Deno.test("client keys: malformed texts are refused with what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["tunnelrsv1authsecret:" + "A".repeat(42), /43 characters/],
    ["tunnelrsv1authsecret:" + "A".repeat(44), /43 characters/],
    ["tunnelrsv1authsecret:" + "A".repeat(42) + "=", /43 characters/],
    // Standard base64's '+' and '/' are not URL-safe base64.
    ["tunnelrsv1authsecret:" + "+".repeat(43), /43 characters/],
    // A last character with its unused bits set is a second spelling of a key.
    [SECRET_TEXT.slice(0, -1) + "B", /43 characters/],
    [PUBLIC_TEXT, /expected 'tunnelrsv1authsecret:'/],
  ];
  for (const [text, message] of cases) assert.throws(() => ClientKey.parse(text), message, text);
  assert.throws(() => ClientPublicKey.parse(SECRET_TEXT), /expected 'tunnelrsv1authpub:'/);
  // 32 bytes of 0xff: y past the field's prime, no point of the curve.
  assert.throws(
    () => ClientPublicKey.parse("tunnelrsv1authpub:" + "_".repeat(42) + "w"),
    /not a point of the Ed25519 curve/,
  );
  assert.throws(() => new ClientKey(new Uint8Array(31)), /expected 32 bytes, got 31/);
});

Deno.test("client keys: a key file is read back, and so is tunnel-rs's layout", () => {
  const key = ClientKey.generate();
  const text = clientKeyFileText(key, "alice laptop");
  assert.match(text, new RegExp(`^# Public key: ${key.publicKey} alice laptop$`, "m"));
  assert.equal(parseClientKeyFile(text, "a.key").secretText(), key.secretText());
  const tunnelRs = [
    "# tunnel-rs client authentication key (Ed25519 private key)",
    "# Created: 2024-09-13T22:22:33Z",
    `# Public key: ${PUBLIC_TEXT} alice laptop`,
    SECRET_TEXT,
    "",
  ].join("\r\n");
  assert.equal(parseClientKeyFile(tunnelRs, "rs.key").publicKey.toString(), PUBLIC_TEXT);
  // The bare key line, indented, is a key file too.
  assert.equal(parseClientKeyFile(`  ${SECRET_TEXT}  `, "k").secretText(), SECRET_TEXT);
});

Deno.test("client keys: a file with no key, two keys or a public key names its problem", () => {
  const cases: [string, RegExp][] = [
    ["", /no key in it/],
    ["# only a comment\n\n", /no key in it/],
    [`${SECRET_TEXT}\n${SECRET_TEXT}\n`, /2 key lines \(expected one\)/],
    [PUBLIC_TEXT, /holds a public key/],
    ["hello", /expected 'tunnelrsv1authsecret:'/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseClientKeyFile(text, "x.key"), (error: Error) => {
      assert.ok(error instanceof ClientKeyFileError);
      assert.match(error.message, /^Invalid client key file 'x\.key': /);
      assert.match(error.message, message);
      // Never the secret in a message.
      assert.ok(!error.message.includes(SECRET_TEXT.split(":")[1]));
      return true;
    });
  }
});

Deno.test("client keys: an authorized-keys line carries a one-line comment of bounded length", () => {
  const key = ClientPublicKey.parse(PUBLIC_TEXT);
  assert.equal(authorizedKeyLine(key), PUBLIC_TEXT);
  assert.equal(authorizedKeyLine(key, "  alice  laptop "), `${PUBLIC_TEXT} alice  laptop`);
  assert.throws(() => authorizedKeyLine(key, "alice\nevil"), /line break/);
  const longest = "c".repeat(MAX_KEY_COMMENT_LENGTH);
  assert.equal(authorizedKeyLine(key, longest), `${PUBLIC_TEXT} ${longest}`);
  assert.throws(() => authorizedKeyLine(key, longest + "c"), /at most 256/);
});
