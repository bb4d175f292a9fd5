import assert from "node:assert/strict";
import {
  congestionControlToward,
  LOCAL_PATH_CONGESTION_CONTROL,
  NETWORK_PATH_CONGESTION_CONTROL,
} from "./congestion.ts";

Deno.test("congestionControlToward() keeps local paths apart from network paths", () => {
  assert.notEqual(LOCAL_PATH_CONGESTION_CONTROL, NETWORK_PATH_CONGESTION_CONTROL);
  const local = ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "::ffff:127.0.0.1"];
  local.push("10.127.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.20", "::ffff:192.168.0.1");
  local.push("169.254.3.4", "fe80::1", "[fe80::1%eth0]", "fd00::5", "fc12::1");
  for (const host of local) {
    assert.equal(congestionControlToward(host), LOCAL_PATH_CONGESTION_CONTROL, host);
  }
  // A wildcard listener faces every network, so it counts as a network path; so does a
  // name, and CGNAT space (100.64.0.0/10), which often spans the internet (overlays).
  const network = ["192.0.2.1", "2001:db8::1", "0.0.0.0", "::", "example.com", "172.32.0.1"];
  network.push("172.15.0.1", "100.64.0.1", "8.8.8.8", "192.169.0.1", "fec0::1", "::2");
  for (const host of network) {
    assert.equal(congestionControlToward(host), NETWORK_PATH_CONGESTION_CONTROL, host);
  }
});
