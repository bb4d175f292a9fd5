import assert from "node:assert/strict";
import {
  congestionControlToward,
  LOOPBACK_PATH_CONGESTION_CONTROL,
  NETWORK_PATH_CONGESTION_CONTROL,
} from "./congestion.ts";

Deno.test("congestionControlToward() keeps loopback paths apart from network paths", () => {
  assert.notEqual(LOOPBACK_PATH_CONGESTION_CONTROL, NETWORK_PATH_CONGESTION_CONTROL);
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"]) {
    assert.equal(congestionControlToward(host), LOOPBACK_PATH_CONGESTION_CONTROL, host);
  }
  // A wildcard listener faces every network, so it counts as a network path.
  for (const host of ["192.0.2.1", "2001:db8::1", "0.0.0.0", "::", "example.com", "10.127.0.1"]) {
    assert.equal(congestionControlToward(host), NETWORK_PATH_CONGESTION_CONTROL, host);
  }
});
