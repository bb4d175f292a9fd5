import assert from "node:assert/strict";
import { formatStatus } from "./status.ts";

const session = {
  label: "session 1",
  peer: "192.0.2.2:40112",
  source: "vpn 10.0.0.2",
  path: { kind: "direct" as const, label: "192.0.2.2:40112", rttMs: 0.8, live: true },
  onPathMs: 65_000,
  paths: [{ kind: "direct" as const, label: "192.0.2.2:40112", rttMs: 0.8, live: true }],
  sent: 2048,
  received: 1024,
  tcpConnections: 0,
  udpFlows: 0,
};

Deno.test("formatStatus() shows a VPN server's network and its clients' addresses", () => {
  const text = formatStatus({
    role: "server",
    endpointId: "ID",
    sessions: [session],
    vpn: { network: "10.0.0.0/24", address: "10.0.0.1/24", device: "tun0", clients: 1 },
  });
  assert.equal(
    text.split("\n").slice(0, 3).join("\n"),
    [
      "server ID: 1 session(s)",
      "  vpn 10.0.0.0/24: 10.0.0.1/24 on tun0, 1 client(s)",
      "  session 1: 192.0.2.2:40112 -> vpn 10.0.0.2",
    ].join("\n"),
  );
  assert.match(text, /path: direct 192\.0\.2\.2:40112, rtt 0\.8 ms for 1 min 5 s/);
  assert.match(text, /sent 2\.0 KiB, received 1\.0 KiB/);
});

Deno.test("formatStatus() shows a VPN client's address and routes", () => {
  const text = formatStatus({
    role: "client",
    endpointId: "ID",
    state: "connected",
    sessions: [],
    vpn: { address: "10.0.0.2/24", device: "tun1", routes: ["192.168.1.0/24"] },
  });
  assert.equal(text, "client of ID: connected\n  vpn 10.0.0.2/24 on tun1, routes 192.168.1.0/24");
});

Deno.test("formatStatus() shows how full a server's pools are", () => {
  const text = formatStatus({
    role: "server",
    endpointId: "ID",
    sessions: [],
    pools: {
      unauthenticated: { active: 3, max: 128 },
      sessions: { active: 2, max: 100 },
      tcpConnections: { active: 40, max: 4096 },
      udpFlows: { active: 0, max: 4096 },
    },
  });
  assert.equal(
    text.split("\n")[1],
    "  in use: 2/100 sessions, 40/4096 TCP connections, 0/4096 UDP flows, 3/128 not yet authenticated",
  );
});

Deno.test("formatStatus() names the client key a session proved", () => {
  const text = formatStatus({
    role: "server",
    endpointId: "ID",
    sessions: [{ ...session, source: "tcp://127.0.0.1:22", clientKey: 'key "alice-laptop"' }],
  });
  assert.equal(
    text.split("\n")[1],
    '  session 1: 192.0.2.2:40112 key "alice-laptop" -> tcp://127.0.0.1:22',
  );
});
