import assert from "node:assert/strict";
import { isProbeTarget } from "./birthday_punch.ts";

Deno.test("isProbeTarget(): only public IPv4 unicast addresses are probed", () => {
  for (const address of ["198.51.100.7", "8.8.8.8", "100.128.0.1", "223.255.255.254"]) {
    assert.ok(isProbeTarget(address), address);
  }
  for (
    const address of [
      "0.0.0.1",
      "10.1.2.3",
      "100.64.0.1",
      "127.0.0.1",
      "169.254.1.1",
      "172.20.0.1",
      "192.168.0.1",
      "224.0.0.251",
      "255.255.255.255",
      "::1",
      "2001:db8::1",
      "example.com",
      "",
    ]
  ) {
    assert.ok(!isProbeTarget(address), address);
  }
});
