import assert from "node:assert/strict";
import { IceFailedError } from "../../core/nat/mod.ts";
import { withIceAdvice } from "./ice_options.ts";

Deno.test("withIceAdvice() adds the CLI's ways out to an ICE failure, and only ones that exist", () => {
  const advised = withIceAdvice(new IceFailedError("no candidate pair answered within 25000 ms"));
  assert.ok(advised instanceof Error);
  assert.match(advised.message, /^ICE found no working path to the peer \(no candidate pair/);
  // No relay exists in any mode yet, so none may be recommended.
  assert.doesNotMatch(advised.message, /relay/i);
  assert.match(advised.message, /--no-stun/);
  assert.match(advised.message, /iroh mode with that address as --server-addr/);
  const other = new Error("something else");
  assert.equal(withIceAdvice(other), other);
});
