import assert from "node:assert/strict";
import { clientToClientLine } from "./vpn_client_to_client.ts";

Deno.test("clientToClientLine() says whether clients reach each other, and what decides it", () => {
  assert.match(
    clientToClientLine("tun0", false),
    /^Client to client: blocked, IP forwarding is off for tun0 /,
  );
  assert.match(
    clientToClientLine("tun0", false),
    /turn it on; iptables FORWARD -i tun0 -o tun0 rules/,
  );
  assert.match(
    clientToClientLine("tun5", true),
    /IP forwarding is on for tun5\), so its firewall decides: iptables FORWARD -i tun5 -o tun5$/,
  );
  assert.match(
    clientToClientLine("utun4", undefined),
    /when IP forwarding is on, through its firewall$/,
  );
  for (const state of [true, false, undefined]) {
    assert.ok(!clientToClientLine("tun0", state).includes("\n"), "one line");
  }
});
