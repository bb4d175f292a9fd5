import assert from "node:assert/strict";
import { MAX_UDP_FLOWS, UdpFlowTable } from "./udp_flows.ts";

Deno.test("UdpFlowTable gives each local peer its own stable flow id", () => {
  const table = new UdpFlowTable();
  const a = table.flowFor("127.0.0.1", 1000, 0);
  const b = table.flowFor("127.0.0.1", 1001, 0);
  assert.notEqual(a.id, b.id);
  assert.equal(table.flowFor("127.0.0.1", 1000, 5).id, a.id);
  assert.equal(table.byId(b.id, 5)?.port, 1001);
});

Deno.test("UdpFlowTable expires idle flows and never reuses their ids", () => {
  const table = new UdpFlowTable();
  const old = table.flowFor("127.0.0.1", 1000, 0);
  table.flowFor("127.0.0.1", 2000, 100);
  assert.equal(table.expire(150, 100), 1);
  assert.equal(table.byId(old.id, 150), undefined);
  assert.notEqual(table.flowFor("127.0.0.1", 1000, 150).id, old.id);
});

Deno.test("UdpFlowTable evicts the least recently active flow at its limit", () => {
  const table = new UdpFlowTable();
  for (let i = 0; i < MAX_UDP_FLOWS; i++) table.flowFor("127.0.0.1", 10_000 + i, i === 0 ? 0 : 1);
  table.flowFor("127.0.0.1", 9, 2);
  assert.equal(table.size, MAX_UDP_FLOWS);
  assert.equal(table.byId(1, 3), undefined);
});
