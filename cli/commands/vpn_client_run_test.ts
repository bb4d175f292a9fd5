import assert from "node:assert/strict";
import { vpnRefusal } from "./vpn_client_run.ts";

Deno.test("vpnRefusal() keeps the server's reason and drops the client instance", () => {
  const reason = "VPN address pool 10.9.0.0/30 is exhausted (1 client address, all in use)";
  const said = vpnRefusal(
    new Error(`server refused request ip://539e66bb9ab2bd538d15b081d8314e84: ${reason}`),
  );
  assert.equal((said as Error).message, `Server refused the VPN client: ${reason}`);
});

Deno.test("vpnRefusal() passes other errors through unchanged", () => {
  const other = new Error("Cannot reach the server (192.0.2.2:7000: no answer (timed out))");
  assert.equal(vpnRefusal(other), other);
  assert.equal(vpnRefusal("not an error"), "not an error");
});
