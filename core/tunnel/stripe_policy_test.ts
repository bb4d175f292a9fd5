import assert from "node:assert/strict";
import type { PathInfo } from "../transport/mod.ts";
import { STRIPE_MIN_RTT_MS, windowMayBind } from "./client_session.ts";

function path(rttMs: number | undefined, live = true): PathInfo {
  return { id: 1, kind: "direct", label: "x", rttMs, lastHeardAt: 0, live, addedAt: 0 };
}

Deno.test("windowMayBind() stripes only once the best live path is measured at 5 ms or more", () => {
  assert.equal(windowMayBind([]), false);
  assert.equal(windowMayBind([path(undefined)]), false);
  assert.equal(windowMayBind([path(0.3)]), false);
  assert.equal(windowMayBind([path(STRIPE_MIN_RTT_MS)]), true);
  assert.equal(windowMayBind([path(80)]), true);
  // The best live path decides: a LAN path beside a relayed one keeps one stream.
  assert.equal(windowMayBind([path(80), path(0.4)]), false);
  // A silent path does not count.
  assert.equal(windowMayBind([path(0.4, false), path(40)]), true);
});
