import assert from "node:assert/strict";
import { connectionTypeOf, pathMethodOf } from "./nominated_path.ts";

Deno.test("connectionTypeOf() names the pair by its least direct end", () => {
  assert.equal(connectionTypeOf("host", "host"), "Direct (Host)");
  assert.equal(connectionTypeOf("srflx", "host"), "NAT Traversal (Server Reflexive)");
  assert.equal(connectionTypeOf("host", "srflx"), "NAT Traversal (Server Reflexive)");
  assert.equal(connectionTypeOf("srflx", "prflx"), "NAT Traversal (Server Reflexive)");
  assert.equal(connectionTypeOf("prflx", "host"), "Peer Reflexive");
  assert.equal(connectionTypeOf("host", "relay"), "Relayed");
});

Deno.test("pathMethodOf() names birthday, then a port-mapped end, then the least direct type", () => {
  const end = (type: "host" | "srflx" | "prflx" | "relay", portMapped?: boolean) => ({
    address: "192.0.2.1",
    port: 1000,
    type,
    ...(portMapped ? { portMapped } : {}),
  });
  const of = (
    local: ReturnType<typeof end>,
    remote: ReturnType<typeof end>,
    method: "ice" | "birthday" = "ice",
  ) => pathMethodOf({ method, local, remote });
  assert.equal(of(end("host"), end("host")), "host");
  assert.equal(of(end("srflx"), end("host")), "server-reflexive");
  assert.equal(of(end("prflx"), end("host")), "peer-reflexive");
  assert.equal(of(end("prflx"), end("srflx")), "server-reflexive");
  assert.equal(of(end("host"), end("relay")), "relayed");
  assert.equal(of(end("srflx"), end("srflx", true)), "port-mapped");
  assert.equal(of(end("prflx"), end("prflx"), "birthday"), "birthday");
});
