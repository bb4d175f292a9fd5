import assert from "node:assert/strict";
import { connectionTypeOf } from "./nominated_path.ts";

Deno.test("connectionTypeOf() names the pair by its least direct end", () => {
  assert.equal(connectionTypeOf("host", "host"), "Direct (Host)");
  assert.equal(connectionTypeOf("srflx", "host"), "NAT Traversal (Server Reflexive)");
  assert.equal(connectionTypeOf("host", "srflx"), "NAT Traversal (Server Reflexive)");
  assert.equal(connectionTypeOf("srflx", "prflx"), "NAT Traversal (Server Reflexive)");
  assert.equal(connectionTypeOf("prflx", "host"), "Peer Reflexive");
  assert.equal(connectionTypeOf("host", "relay"), "Relayed");
});
