import assert from "node:assert/strict";
import { stunServersOf } from "./upgrades.ts";

const SIBLINGS = ["https://a.relay.example/", "https://b.relay.example/"];

Deno.test("stunServersOf(): named servers win; a relay of the siblings brings all their STUN; others only their own", () => {
  assert.deepEqual(
    stunServersOf({ stunServers: ["192.0.2.9:3478"], stunSiblings: SIBLINGS }, [SIBLINGS[0]]),
    ["192.0.2.9:3478"],
  );
  assert.deepEqual(stunServersOf({ stunSiblings: SIBLINGS }, ["https://a.relay.example"]), [
    "a.relay.example:3478",
    "b.relay.example:3478",
  ]);
  assert.deepEqual(stunServersOf({ stunSiblings: SIBLINGS }, ["http://198.51.100.1:3340/"]), [
    "198.51.100.1:3478",
  ]);
  assert.deepEqual(stunServersOf({}, ["http://[2001:db8::1]:3340/"]), ["[2001:db8::1]:3478"]);
});
