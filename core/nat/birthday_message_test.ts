import assert from "node:assert/strict";
import {
  BIRTHDAY_MESSAGE_LENGTH,
  birthdayToken,
  decodeBirthday,
  encodeBirthday,
} from "./birthday_message.ts";

const TOKEN = new Uint8Array(16).fill(5);

Deno.test("birthday datagrams round-trip every kind; another token, size or magic is not one", () => {
  for (const kind of ["probe", "reply", "chosen", "ack"] as const) {
    const data = encodeBirthday(kind, TOKEN);
    assert.equal(data.length, BIRTHDAY_MESSAGE_LENGTH);
    assert.equal(decodeBirthday(data, TOKEN), kind);
    assert.equal(decodeBirthday(data, new Uint8Array(16).fill(6)), undefined);
    assert.equal(decodeBirthday(data.slice(0, 20), TOKEN), undefined);
    const badMagic = data.slice();
    badMagic[0] ^= 1;
    assert.equal(decodeBirthday(badMagic, TOKEN), undefined);
  }
  const badKind = encodeBirthday("probe", TOKEN);
  badKind[4] = 9;
  assert.equal(decodeBirthday(badKind, TOKEN), undefined);
  assert.throws(() => encodeBirthday("probe", new Uint8Array(15)), RangeError);
});

Deno.test("birthdayToken: 16 bytes, fixed per secret, different per secret, not the secret", async () => {
  const secret = new Uint8Array(32).fill(1);
  const token = await birthdayToken(secret);
  assert.equal(token.length, 16);
  assert.deepEqual(await birthdayToken(secret), token);
  assert.notDeepEqual(await birthdayToken(new Uint8Array(32).fill(2)), token);
  assert.notDeepEqual(token, secret.slice(0, 16));
});
