import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import type { VpnUnderTest } from "./vpn_suite.ts";
import { WAN_VPN_CASES, wanVpnLayout } from "./wan_vpn_suite.ts";

const vpn = (path: string): VpnUnderTest => ({
  path,
  start: () => Promise.reject(new Error("not started in this test")),
});

Deno.test("WAN_VPN_CASES: RTT 20 and 80 ms, and 80 ms with 0.5% loss on the data direction", () => {
  deepStrictEqual(WAN_VPN_CASES.map((c) => c.id), ["rtt20", "rtt80", "loss0.5"]);
  strictEqual(WAN_VPN_CASES[2].ab.delayUs! + WAN_VPN_CASES[2].ba.delayUs!, 80_000);
  strictEqual(WAN_VPN_CASES[2].ab.loss, 0.005);
});

Deno.test("wanVpnLayout(): direct first, then the VPNs; compared with the first VPN", () => {
  const layout = wanVpnLayout([vpn("wireguard-go"), vpn("tunnel vpn")]);
  deepStrictEqual(layout.paths, ["direct", "wireguard-go", "tunnel vpn"]);
  strictEqual(layout.reference, "wireguard-go");
  strictEqual(layout.label, "WAN VPN");
  throws(() => wanVpnLayout([]), /no VPN/);
  throws(() => wanVpnLayout([vpn("direct")]), /a VPN is named direct/);
});
