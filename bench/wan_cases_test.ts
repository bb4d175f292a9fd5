import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { CAP_QUEUE_BYTES, selectWanCases, WAN_CASES } from "./wan_cases.ts";

Deno.test("WAN_CASES: the issue's cases, each RTT split equally, loss on data only", () => {
  deepStrictEqual(WAN_CASES.map((c) => c.id), [
    "rtt0",
    "rtt20",
    "rtt80",
    "rtt150",
    "loss0.5",
    "loss1",
    "streams4",
    "cap100",
  ]);
  for (const c of WAN_CASES) {
    strictEqual(c.ab.delayUs, c.ba.delayUs, c.id);
    strictEqual(c.ba.loss, undefined, c.id);
  }
  const byId = new Map(WAN_CASES.map((c) => [c.id, c]));
  strictEqual(byId.get("rtt150")!.ab.delayUs, 75_000);
  strictEqual(byId.get("loss1")!.ab.loss, 0.01);
  strictEqual(byId.get("streams4")!.parallel, 4);
  // One bandwidth-delay product: 100 Mbit/s x 40 ms.
  strictEqual(CAP_QUEUE_BYTES, 500_000);
  strictEqual(byId.get("cap100")!.ab.queueBytes, 500_000);
  strictEqual(byId.get("cap100")!.ab.delayUs! * 2, 40_000);
  ok(new Set(WAN_CASES.map((c) => c.title)).size === WAN_CASES.length, "titles are distinct");
});

Deno.test("selectWanCases() keeps table order and rejects unknown or empty lists", () => {
  strictEqual(selectWanCases().length, WAN_CASES.length);
  deepStrictEqual(selectWanCases(["cap100", "rtt20"]).map((c) => c.id), ["rtt20", "cap100"]);
  throws(() => selectWanCases(["rtt21"]), /unknown case rtt21 \(known: rtt0, /);
  throws(() => selectWanCases([]), /no case named/);
});
