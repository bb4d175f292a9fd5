import assert from "node:assert/strict";
import {
  DIRECT_PATH,
  isRelayedKind,
  pathKindByWireCode,
  pathKindInfo,
  PathTable,
  registerPathKind,
  RELAY_PATH,
} from "./mod.ts";

Deno.test("registerPathKind(): the built-in kinds keep the wire codes PathHello has always used", () => {
  assert.equal(DIRECT_PATH.wireCode, 0);
  assert.equal(RELAY_PATH.wireCode, 1);
  assert.equal(pathKindByWireCode(1)?.kind, "relay");
  assert.equal(isRelayedKind("direct"), false);
  assert.equal(isRelayedKind("relay"), true);
  assert.equal(isRelayedKind("never-registered"), true, "an unknown kind is not trusted as direct");
});

Deno.test("registerPathKind(): a new kind is one call, and the path policy treats it by its facts", () => {
  const mapped = registerPathKind({ kind: "test-port-mapped", wireCode: 200, relayed: false });
  assert.equal(registerPathKind({ ...mapped }), mapped, "the same facts again: the same kind");
  assert.equal(pathKindInfo("test-port-mapped"), mapped);
  const table = new PathTable();
  table.add("relay", "https://relay.example", 0);
  const id = table.add("test-port-mapped", "198.51.100.7:4433", 0);
  table.heard(1, 10, 5);
  table.heard(id, 10, 50);
  assert.equal(table.best(10)?.id, id, "not relayed: preferred over a relay with a lower RTT");
});

Deno.test("registerPathKind(): a taken name or code, or a code that is not a byte, is refused", () => {
  assert.throws(() => registerPathKind({ kind: "direct", wireCode: 7, relayed: false }), /already/);
  assert.throws(
    () => registerPathKind({ kind: "test-other", wireCode: 1, relayed: true }),
    /relay/,
  );
  assert.throws(() => registerPathKind({ kind: "test-big", wireCode: 256, relayed: true }), /byte/);
});
