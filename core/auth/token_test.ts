import assert from "node:assert/strict";
import {
  generateToken,
  parseToken,
  parseTokensFile,
  TOKEN_ALPHABET,
  tokenFormatError,
  TokenSet,
} from "./mod.ts";

const encode = (s: string) => new TextEncoder().encode(s);

Deno.test("generateToken() makes 18-character tokens that pass their own check", () => {
  for (let i = 0; i < 1000; i++) {
    const token = generateToken();
    assert.match(token, /^i[A-Za-z0-9_-]{16}[A-Za-z0-9_.-]$/);
    assert.equal(tokenFormatError(token), undefined);
  }
});

Deno.test("the checksum detects every single changed character", () => {
  for (let n = 0; n < 20; n++) {
    const token = generateToken();
    for (let pos = 1; pos < token.length; pos++) {
      for (const char of TOKEN_ALPHABET) {
        if (char === token[pos]) continue;
        const changed = token.slice(0, pos) + char + token.slice(pos + 1);
        assert.notEqual(tokenFormatError(changed), undefined, `${token} -> ${changed}`);
      }
    }
  }
});

Deno.test("the checksum detects every swap of two adjacent different characters", () => {
  for (let n = 0; n < 500; n++) {
    const token = generateToken();
    for (let pos = 0; pos < token.length - 1; pos++) {
      if (token[pos] === token[pos + 1]) continue;
      const swapped = token.slice(0, pos) + token[pos + 1] + token[pos] + token.slice(pos + 2);
      assert.notEqual(tokenFormatError(swapped), undefined, `${token} -> ${swapped}`);
    }
  }
});

Deno.test("parseToken() names the problem", () => {
  assert.throws(() => parseToken("ishort"), /expected 18 characters, got 6/);
  assert.throws(() => parseToken("x" + generateToken().slice(1)), /must start with 'i'/);
  assert.throws(() => parseToken(generateToken().slice(0, 17) + "!"), /invalid character '!'/);
  const token = generateToken();
  assert.equal(parseToken(`  ${token}\n`), token);
});

Deno.test("TokenSet.has() accepts configured tokens only", () => {
  const [a, b] = [generateToken(), generateToken()];
  const set = new TokenSet([a, b, a]);
  assert.equal(set.size, 2);
  assert.ok(set.has(encode(a)) && set.has(encode(b)));
  assert.ok(!set.has(encode(generateToken())));
  assert.ok(!set.has(encode(a.slice(0, 17))));
  assert.ok(!set.has(encode(a + "x")));
  assert.ok(!set.has(new Uint8Array(0)));
});

Deno.test("parseTokensFile() skips comments and blanks and reports the bad line", () => {
  const [a, b] = [generateToken(), generateToken()];
  assert.deepEqual(parseTokensFile(`# alice\n${a}\n\n  ${b}  # bob\n`, "t.txt"), [a, b]);
  assert.throws(
    () => parseTokensFile(`${a}\n# x\nibroken\n`, "t.txt"),
    /^TypeError: t\.txt:3: Invalid auth token/,
  );
});
