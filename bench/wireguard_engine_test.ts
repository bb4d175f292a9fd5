import assert from "node:assert/strict";
import { measureWireGuardEngine } from "./wireguard_engine.ts";

Deno.test("measureWireGuardEngine() moves packets and reports positive rates (bounded to ~0.4 s)", () => {
  const rates = measureWireGuardEngine(200);
  console.log(
    `seal+open ${Math.round(rates.sealOpen)} packets/s, peer to peer ${
      Math.round(rates.peerToPeer)
    } packets/s`,
  );
  assert.ok(rates.sealOpen > 0);
  assert.ok(rates.peerToPeer > 0);
});
