import assert from "node:assert/strict";
import { vpnServerLine } from "./vpn_server_run.ts";

Deno.test("vpnServerLine() says what the server set up", () => {
  assert.equal(
    vpnServerLine({
      type: "device-ready",
      network: "10.0.0.0/24",
      address: "10.0.0.1",
      device: "tun0",
      mtu: 1420,
      capacity: 253,
    }),
    "VPN network 10.0.0.0/24: this server is 10.0.0.1 on tun0 (MTU 1420), 253 client addresses",
  );
  assert.equal(
    vpnServerLine({ type: "forwarding-enabled", outInterface: "eth0", device: "tun0" }),
    "Forwarding: clients reach networks behind this host, masqueraded out of eth0",
  );
  assert.equal(
    vpnServerLine({ type: "forwarding-enabled", device: "tun0" }),
    "Forwarding: clients reach networks behind this host, masqueraded out of every interface but tun0",
  );
});
