import assert from "node:assert/strict";
import { ipv4Scope } from "./ipv4_scope.ts";
import { parseIp } from "./ip.ts";

Deno.test("ipv4Scope(): each special range at its edges, and public just outside them", () => {
  const cases: [string, string][] = [
    ["0.0.0.0", "this-network"],
    ["0.255.255.255", "this-network"],
    ["1.0.0.0", "public"],
    ["9.255.255.255", "public"],
    ["10.0.0.0", "private"],
    ["10.255.255.255", "private"],
    ["11.0.0.0", "public"],
    ["100.63.255.255", "public"],
    ["100.64.0.0", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.0", "public"],
    ["127.0.0.1", "loopback"],
    ["169.253.255.255", "public"],
    ["169.254.0.1", "link-local"],
    ["169.255.0.0", "public"],
    ["172.15.255.255", "public"],
    ["172.16.0.0", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", "public"],
    ["192.167.255.255", "public"],
    ["192.168.1.1", "private"],
    ["192.169.0.0", "public"],
    ["198.51.100.1", "public"],
    ["223.255.255.255", "public"],
    ["224.0.0.1", "multicast-reserved"],
    ["240.0.0.1", "multicast-reserved"],
    ["255.255.255.255", "multicast-reserved"],
  ];
  for (const [text, scope] of cases) assert.equal(ipv4Scope(parseIp(text)!), scope, text);
  assert.throws(() => ipv4Scope(new Uint8Array(16)), RangeError);
});
