import assert from "node:assert/strict";
import { LocalPeerFlows, MAX_UDP_FLOWS, UdpFlowTable } from "./udp_flows.ts";

Deno.test("LocalPeerFlows gives each local peer its own stable flow id", () => {
  const table = new LocalPeerFlows();
  const a = table.flowFor("127.0.0.1", 1000, 0);
  const b = table.flowFor("127.0.0.1", 1001, 0);
  assert.notEqual(a.id, b.id);
  assert.equal(table.flowFor("127.0.0.1", 1000, 5).id, a.id);
  assert.equal(table.byId(b.id, 5)?.value.port, 1001);
});

Deno.test("LocalPeerFlows expires idle flows and never reuses their ids", () => {
  const table = new LocalPeerFlows();
  const old = table.flowFor("127.0.0.1", 1000, 0);
  table.flowFor("127.0.0.1", 2000, 100);
  assert.equal(table.expire(150, 100), 1);
  assert.equal(table.byId(old.id, 150), undefined);
  assert.notEqual(table.flowFor("127.0.0.1", 1000, 150).id, old.id);
});

Deno.test("LocalPeerFlows evicts the least recently active flow at its limit", () => {
  const table = new LocalPeerFlows();
  for (let i = 0; i < MAX_UDP_FLOWS; i++) table.flowFor("127.0.0.1", 10_000 + i, i === 0 ? 0 : 1);
  table.flowFor("127.0.0.1", 9, 2);
  assert.equal(table.size, MAX_UDP_FLOWS);
  assert.equal(table.byId(1, 3), undefined);
});

Deno.test("UdpFlowTable closes each flow once: evicted at the limit, expired, or cleared", () => {
  const closed: number[] = [];
  const table = new UdpFlowTable<string>({ limit: 2, onClose: (flow) => closed.push(flow.id) });
  table.add(1, "a", 0);
  table.add(2, "b", 10);
  table.get(1, 20); // 1 is now the more recently active
  table.add(3, "c", 30);
  assert.deepEqual(closed, [2]);
  assert.equal(table.size, 2);
  assert.equal(table.expire(125, 100), 1);
  assert.deepEqual(closed, [2, 1]);
  table.clear();
  table.delete(3);
  assert.deepEqual(closed, [2, 1, 3]);
  assert.equal(table.size, 0);
});
