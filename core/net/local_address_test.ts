import assert from "node:assert/strict";
import { isLocalAddress, isLoopbackAddress } from "./mod.ts";

Deno.test("isLocalAddress(): this machine and its local networks, in any spelling", () => {
  const local = ["127.0.0.1", "[::1]", "localhost", "::ffff:10.0.0.1", "172.31.0.1", "192.168.1.2"];
  local.push("169.254.1.1", "[fe80::1%eth0]", "fd00::1");
  for (const host of local) assert.ok(isLocalAddress(host), host);
  const network = ["192.0.2.2", "172.32.0.1", "8.8.8.8", "2001:db8::1", "relay.example", ""];
  for (const host of network) assert.ok(!isLocalAddress(host), host);
});

Deno.test("isLoopbackAddress() knows loopback from other local addresses", () => {
  for (const host of ["127.0.0.1", "127.9.8.7", "::1", "[::1]", "::ffff:127.0.0.1", "localhost"]) {
    assert.equal(isLoopbackAddress(host), true, host);
  }
  for (
    const host of ["10.0.0.1", "192.168.1.2", "fe80::1", "::", "0.0.0.0", "::2", "example.com"]
  ) {
    assert.equal(isLoopbackAddress(host), false, host);
  }
});
