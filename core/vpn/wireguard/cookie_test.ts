import assert from "node:assert/strict";
import { FakeClock } from "./_wireguard_fixtures.ts";
import { CookieChecker, CookieGenerator } from "./cookie.ts";
import { generatePrivateKey, publicKeyOf } from "./noise_primitives.ts";
import { COOKIE_REFRESH_TIME } from "./timers.ts";

function setup() {
  const clock = new FakeClock();
  const responder = publicKeyOf(generatePrivateKey());
  const checker = new CookieChecker(responder, { now: clock.now });
  const generator = new CookieGenerator(responder, { now: clock.now });
  const message = () => {
    const bytes = new Uint8Array(148);
    bytes[0] = 1;
    bytes[4] = 42;
    crypto.getRandomValues(bytes.subarray(8, 116));
    return bytes;
  };
  return { clock, checker, generator, message };
}

const SOURCE = new Uint8Array([127, 0, 0, 1, 0x30, 0x39]);

Deno.test("CookieChecker.checkMac1() accepts the generator's mac1 and rejects any change", () => {
  const { checker, generator, message } = setup();
  const bytes = message();
  generator.addMacs(bytes);
  assert.equal(checker.checkMac1(bytes), true);
  for (const at of [0, 50, 115, 116, 131]) {
    const copy = bytes.slice();
    copy[at] ^= 1;
    assert.equal(checker.checkMac1(copy), false, `byte ${at}`);
  }
  const other = new CookieChecker(publicKeyOf(generatePrivateKey()), { now: () => 0 });
  assert.equal(other.checkMac1(bytes), false, "mac1 is bound to the receiver's key");
  assert.equal(checker.checkMac1(new Uint8Array(10)), false);
});

Deno.test("a cookie reply gives the sender a valid mac2 for two minutes, bound to its address", () => {
  const { clock, checker, generator, message } = setup();
  const first = message();
  generator.addMacs(first);
  assert.equal(checker.checkMac2(first, SOURCE), false, "no cookie yet");
  const reply = checker.createReply(first, 42, SOURCE);
  assert.equal(reply.length, 64);
  assert.equal(generator.consumeReply(reply), true);
  assert.equal(generator.consumeReply(reply), false, "a copy of the reply is not news");

  const second = message();
  generator.addMacs(second);
  assert.equal(checker.checkMac1(second), true);
  assert.equal(checker.checkMac2(second, SOURCE), true);
  assert.equal(
    checker.checkMac2(second, new Uint8Array([10, 0, 0, 1, 0, 1])),
    false,
    "another address",
  );

  clock.advance(COOKIE_REFRESH_TIME + 1);
  const third = message();
  generator.addMacs(third);
  assert.equal(checker.checkMac2(third, SOURCE), false, "the cookie and the secret expired");
  assert.deepEqual(third.subarray(132), new Uint8Array(16), "no mac2 without a fresh cookie");
});

Deno.test("CookieGenerator.consumeReply() refuses a reply to another message or a forged one", () => {
  const { checker, generator, message } = setup();
  const sent = message();
  generator.addMacs(sent);
  const unrelated = message();
  new CookieGenerator(publicKeyOf(generatePrivateKey()), { now: () => 0 }).addMacs(unrelated);
  assert.equal(generator.consumeReply(checker.createReply(unrelated, 42, SOURCE)), false);
  const forged = checker.createReply(sent, 42, SOURCE);
  forged[40] ^= 1;
  assert.equal(generator.consumeReply(forged), false);
  assert.equal(generator.consumeReply(new Uint8Array(63)), false);
  assert.equal(generator.consumeReply(checker.createReply(sent, 42, SOURCE)), true);
});
