import assert from "node:assert/strict";
import {
  AuthorizedKeys,
  AuthorizedKeysError,
  MAX_AUTHORIZED_KEYS,
  parseAuthorizedKeys,
} from "./authorized_keys.ts";
import { ClientKey, type ClientPublicKey, MAX_KEY_COMMENT_LENGTH } from "./client_key.ts";

const alice = ClientKey.generate().publicKey;
const bob = ClientKey.generate().publicKey;

Deno.test("authorized keys: comments, blank lines and CRLF are skipped; comments run to the end", () => {
  const keys = parseAuthorizedKeys(
    [
      "# team keys",
      "",
      `${alice} alice laptop  (work) `,
      "   ",
      `  ${bob}\r`,
      `${alice} alice again`,
    ].join("\n"),
    "authorized_keys",
  );
  assert.equal(keys.size, 2);
  assert.equal(keys.find(alice.bytes)?.comment, "alice laptop  (work)");
  assert.equal(keys.find(bob.bytes)?.comment, "");
  assert.equal(keys.find(ClientKey.generate().publicKey.bytes), undefined);
  // A prefix of a key, or a longer byte string starting with one, is no key.
  assert.equal(keys.find(alice.bytes.subarray(0, 31)), undefined);
  assert.equal(keys.find(Uint8Array.of(...alice.bytes, 0)), undefined);
});

Deno.test("authorized keys: a bad line is named by file and line with its problem", () => {
  const cases: [string, number, RegExp][] = [
    ["ssh-ed25519 AAAAC3Nza alice", 1, /expected 'tunnelrsv1authpub:'/],
    [`# ok\n${alice}\ntunnelrsv1authpub:short bob`, 3, /43 characters/],
    [`\n\ntunnelrsv1authsecret:${"A".repeat(43)}`, 3, /secret key.*show-client-key/],
    [`tunnelrsv1authpub:${"_".repeat(42)}w`, 1, /not a point/],
    [`${alice} ${"c".repeat(MAX_KEY_COMMENT_LENGTH + 1)}`, 1, /at most 256/],
    // A tab is not the separator: the key text then runs into the comment.
    [`${alice}\talice`, 1, /43 characters/],
  ];
  for (const [text, line, problem] of cases) {
    assert.throws(() => parseAuthorizedKeys(text, "keys.txt"), (error: Error) => {
      assert.ok(error instanceof AuthorizedKeysError);
      assert.equal(error.line, line);
      assert.ok(error.message.startsWith(`keys.txt:${line}: Invalid authorized key: `));
      assert.match(error.message, problem);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
  // The longest comment allowed is kept whole.
  const longest = "c".repeat(MAX_KEY_COMMENT_LENGTH);
  assert.equal(parseAuthorizedKeys(`${alice} ${longest}`, "k").find(alice.bytes)?.comment, longest);
});

Deno.test("authorized keys: more than the limit of key lines is refused", () => {
  const line = `${alice} a\n`;
  assert.equal(parseAuthorizedKeys(line.repeat(MAX_AUTHORIZED_KEYS), "k").size, 1);
  assert.throws(
    () => parseAuthorizedKeys(line.repeat(MAX_AUTHORIZED_KEYS + 1), "big"),
    /^AuthorizedKeysError: big: more than 10000 authorized keys/,
  );
});

Deno.test("authorized keys: the set holds distinct keys, the first comment winning", () => {
  const keys = new AuthorizedKeys([
    { key: alice, comment: "first" },
    { key: alice, comment: "second" },
  ]);
  assert.equal(keys.size, 1);
  assert.equal(keys.find(alice.bytes)?.comment, "first");
});

Deno.test("authorized keys: the set itself refuses more than the limit of distinct keys", () => {
  // Stand-ins with distinct texts: making 10,001 real keys would only slow the test.
  const entries = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      key: { bytes: new Uint8Array(32), toString: () => `k${i}` } as unknown as ClientPublicKey,
      comment: "",
    }));
  assert.equal(new AuthorizedKeys(entries(MAX_AUTHORIZED_KEYS)).size, MAX_AUTHORIZED_KEYS);
  assert.throws(() => new AuthorizedKeys(entries(MAX_AUTHORIZED_KEYS + 1)), RangeError);
});
