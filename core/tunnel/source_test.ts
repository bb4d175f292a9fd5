import assert from "node:assert/strict";
import { formatSource, parseHostPort, parseSource } from "./source.ts";

Deno.test("parseSource() reads tcp and udp URLs, IPv6 in brackets", () => {
  assert.deepEqual(parseSource("tcp://127.0.0.1:22"), {
    protocol: "tcp",
    host: "127.0.0.1",
    port: 22,
  });
  assert.deepEqual(parseSource("udp://[::1]:51820"), { protocol: "udp", host: "::1", port: 51820 });
  assert.deepEqual(parseSource("tcp://db.internal:5432").host, "db.internal");
  assert.equal(formatSource(parseSource("udp://[::1]:53")), "udp://[::1]:53");
});

Deno.test("parseSource() refuses malformed sources with the expected form", () => {
  for (
    const bad of [
      "http://x:1",
      "tcp://x",
      "tcp://x:0",
      "tcp://x:70000",
      "tcp://x:1/path",
      "tcp://u@x:1",
      "tcp://:1",
      "tcp://x y:1",
      "x".repeat(400),
    ]
  ) {
    assert.throws(() => parseSource(bad), /Invalid source .*expected tcp:\/\/host:port/, bad);
  }
});

Deno.test("parseHostPort() reads listen addresses", () => {
  assert.deepEqual(parseHostPort("0.0.0.0:51820"), { host: "0.0.0.0", port: 51820 });
  assert.deepEqual(parseHostPort("[::]:0"), { host: "::", port: 0 });
  assert.throws(() => parseHostPort("2222"), /expected host:port/);
  assert.throws(() => parseHostPort("h:99999"), /expected host:port/);
});
