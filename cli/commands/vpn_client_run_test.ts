import assert from "node:assert/strict";
import { SessionRefusedError } from "../../core/tunnel/mod.ts";
import { vpnClientLine, vpnRefusal } from "./vpn_client_run.ts";

Deno.test("vpnRefusal() keeps the server's reason and drops the client instance", () => {
  const reason = "VPN address pool 10.9.0.0/30 is exhausted (1 client address, all in use)";
  const request = "ip://539e66bb9ab2bd538d15b081d8314e84";
  const said = vpnRefusal(
    new SessionRefusedError("source", `server refused request ${request}: ${reason}`, {
      reason,
      request,
    }),
  );
  assert.equal((said as Error).message, `Server refused the VPN client: ${reason}`);
});

Deno.test("vpnRefusal() passes other errors through unchanged", () => {
  const other = new Error("Cannot reach the server (192.0.2.2:7000: no answer (timed out))");
  assert.equal(vpnRefusal(other), other);
  assert.equal(vpnRefusal("not an error"), "not an error");
});

Deno.test("vpnClientLine() says each device event, --mtu in the user's words", () => {
  assert.equal(
    vpnClientLine({
      type: "device-ready",
      address: "10.0.0.2/24",
      device: "tun0",
      mtu: 1400,
      server: "10.0.0.1",
      routes: ["10.0.0.0/24", "192.168.7.0/24"],
    }),
    "VPN ready: 10.0.0.2/24 on tun0 (MTU 1400), server 10.0.0.1; routes: 10.0.0.0/24, 192.168.7.0/24",
  );
  assert.equal(
    vpnClientLine({ type: "mtu-lowered", mtu: 1400, asked: 1420 }),
    "MTU 1400: the server's device is smaller than --mtu 1420",
  );
  assert.equal(
    vpnClientLine({ type: "address-changed", from: "10.0.0.2/24", to: "10.0.0.3/24" }),
    "VPN address changed from 10.0.0.2/24 to 10.0.0.3/24: making the device again",
  );
  assert.equal(
    vpnClientLine({ type: "device-kept", address: "10.0.0.2/24", device: "tun0" }),
    "VPN address 10.0.0.2/24 kept on tun0",
  );
});
