import assert from "node:assert/strict";
import { ICE_TIMEOUT_MS } from "../core/connect/mod.ts";
import { IceFailedError } from "../core/nat/mod.ts";
import { explainClientIceFailure, explainServerIceFailure } from "./manual_expiry.ts";

const noPath = () => new IceFailedError("no connectivity check succeeded within 25000 ms");
const unconfirmed = () => new IceFailedError("not confirmed", { pathFound: true });

Deno.test("explainClientIceFailure() names an expired answer only when it came later than the server waits", () => {
  const late = explainClientIceFailure(noPath(), ICE_TIMEOUT_MS + 5_000) as Error;
  assert.match(
    late.message,
    /^ICE timed out waiting for the server: its answer was pasted 30 s after/,
  );
  assert.match(late.message, /most likely expired/);
  // Within the server's wait the answer cannot have expired: the NAT advice stays.
  for (
    const error of [
      explainClientIceFailure(noPath(), ICE_TIMEOUT_MS),
      explainClientIceFailure(noPath()),
    ]
  ) {
    assert.match((error as Error).message, /^ICE found no working path/);
    assert.doesNotMatch((error as Error).message, /expired/);
  }
  // A path found means the server was there: not an expiry.
  assert.doesNotMatch(
    (explainClientIceFailure(unconfirmed(), ICE_TIMEOUT_MS * 2) as Error).message,
    /expired/,
  );
  const other = new Error("input ended");
  assert.equal(explainClientIceFailure(other, ICE_TIMEOUT_MS * 2), other);
});

Deno.test("explainServerIceFailure() names both a late paste and no path when no check ever worked", () => {
  const message = (explainServerIceFailure(noPath()) as Error).message;
  assert.match(
    message,
    /^ICE found no working path to the client within 25 s of printing the answer \(/,
  );
  assert.match(
    message,
    /Either the answer was not pasted into the client in time \(it expires after 25 s/,
  );
  assert.match(
    message,
    /or no path exists between the two\. This usually means both sides are behind symmetric NATs/,
  );
  // The reason is said once, not twice.
  assert.equal(message.split("ICE found no working path").length, 2);
  assert.doesNotMatch((explainServerIceFailure(unconfirmed()) as Error).message, /expired/);
});
