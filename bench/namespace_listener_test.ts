import { strictEqual } from "node:assert/strict";
import { ssShowsListener } from "./namespace_listener.ts";

// `ss -Hltn 'sport = :5201'` (iproute2 6.1): state, recv-q, send-q, local, peer.
const SS = "LISTEN 0      4096   192.0.2.2:5201 0.0.0.0:*\n";

Deno.test("ssShowsListener() matches the bound address or a wildcard, not another", () => {
  strictEqual(ssShowsListener(SS, "192.0.2.2", 5201), true);
  strictEqual(ssShowsListener(SS, "127.0.0.1", 5201), false);
  strictEqual(ssShowsListener(SS, "192.0.2.2", 520), false);
  strictEqual(ssShowsListener("LISTEN 0 128 0.0.0.0:6001 0.0.0.0:*", "127.0.0.1", 6001), true);
  strictEqual(ssShowsListener("", "127.0.0.1", 6001), false);
});
