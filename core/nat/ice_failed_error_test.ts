import assert from "node:assert/strict";
import { IceFailedError } from "./ice_failed_error.ts";

Deno.test("IceFailedError starts with the reason and suggests only ways out that exist", () => {
  const error = new IceFailedError("no candidate pair answered within 25000 ms");
  assert.match(
    error.message,
    /^ICE found no working path to the peer \(no candidate pair answered within 25000 ms\)\. /,
  );
  assert.equal(error.detail, "no candidate pair answered within 25000 ms");
  // Core names no CLI flags; the CLI adds its own advice (cli/settings/ice_options_test.ts).
  assert.doesNotMatch(error.message, /--/);
});

Deno.test("IceFailedError tells whether a path was found before the time ran out", () => {
  assert.equal(new IceFailedError("no check succeeded").pathFound, false);
  assert.equal(new IceFailedError("not confirmed", { pathFound: true }).pathFound, true);
});
