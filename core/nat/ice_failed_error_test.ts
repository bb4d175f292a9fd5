import assert from "node:assert/strict";
import { IceFailedError } from "./ice_failed_error.ts";

Deno.test("IceFailedError starts with the reason and suggests only ways out that exist", () => {
  const error = new IceFailedError("no candidate pair answered within 25000 ms");
  assert.match(
    error.message,
    /^ICE found no working path to the peer \(no candidate pair answered within 25000 ms\)\. /,
  );
  assert.equal(error.detail, "no candidate pair answered within 25000 ms");
  // No relay exists in any mode yet, so none may be recommended.
  assert.doesNotMatch(error.message, /relay/i);
  assert.match(error.message, /--no-stun/);
  assert.match(error.message, /iroh mode with that address as --server-addr/);
});
