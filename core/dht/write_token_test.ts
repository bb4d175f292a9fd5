import assert from "node:assert/strict";
import { constantTimeEqual, TOKEN_ROTATION_MS, WriteTokens } from "./write_token.ts";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

Deno.test("write tokens: bound to the IP, valid 5 to 10 minutes", () => {
  const clock = { ms: 0 };
  const tokens = new WriteTokens(random, () => clock.ms);
  const token = tokens.issue("192.0.2.1");
  assert.ok(tokens.check("192.0.2.1", token));
  assert.ok(!tokens.check("192.0.2.2", token), "another IP");
  assert.ok(
    !tokens.check("192.0.2.1", token.map((byte, i) => (i === 0 ? byte ^ 1 : byte))),
    "a flipped bit",
  );
  assert.ok(!tokens.check("192.0.2.1", token.subarray(1)), "shorter");
  clock.ms += TOKEN_ROTATION_MS; // rotated once: the previous secret still counts
  assert.ok(tokens.check("192.0.2.1", token));
  clock.ms += TOKEN_ROTATION_MS; // rotated twice: gone
  assert.ok(!tokens.check("192.0.2.1", token));
});

Deno.test("write tokens: after a long silence no old token survives", () => {
  const clock = { ms: 0 };
  const tokens = new WriteTokens(random, () => clock.ms);
  const token = tokens.issue("192.0.2.1");
  clock.ms += 3 * TOKEN_ROTATION_MS;
  assert.ok(!tokens.check("192.0.2.1", token));
});

Deno.test("constantTimeEqual", () => {
  assert.ok(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2)));
  assert.ok(!constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3)));
  assert.ok(!constantTimeEqual(Uint8Array.of(1), Uint8Array.of(1, 2)));
});
