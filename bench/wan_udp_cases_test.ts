import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { JITTER_US, WAN_UDP_CASES } from "./wan_udp_cases.ts";

Deno.test("WAN_UDP_CASES: 20 and 80 ms, 80 ms with 1% loss, 80 ms with in-order jitter", () => {
  deepStrictEqual(WAN_UDP_CASES.map((c) => c.id), ["rtt20", "rtt80", "loss1", "jitter5"]);
  const byId = new Map(WAN_UDP_CASES.map((c) => [c.id, c]));
  strictEqual(byId.get("rtt20")!.ab.delayUs! + byId.get("rtt20")!.ba.delayUs!, 20_000);
  strictEqual(byId.get("loss1")!.ab.loss, 0.01);
  const jitter = byId.get("jitter5")!;
  strictEqual(jitter.ab.delayUs! + jitter.ba.delayUs!, 80_000);
  strictEqual(jitter.ab.jitterUs, JITTER_US);
  strictEqual(JITTER_US, 5_000);
  strictEqual(jitter.ab.reorder, false);
  strictEqual(jitter.ba.jitterUs, undefined);
  strictEqual(jitter.ab.loss, undefined);
});
