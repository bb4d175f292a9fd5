import assert from "node:assert/strict";
import { _selectHostAddresses } from "./_host_addresses.ts";

const INTERFACES = [
  { family: "IPv6", address: "fd00::2" },
  { family: "IPv4", address: "127.0.0.1" },
  { family: "IPv6", address: "::1" },
  { family: "IPv4", address: "10.0.0.5" }, // e.g. on a veth: werift would drop it
  { family: "IPv6", address: "fe80::fc:ff:fe00:1" },
  { family: "IPv4", address: "169.254.3.4" },
  { family: "IPv4", address: "10.0.0.5" },
] as const;

Deno.test("_selectHostAddresses() keeps routable addresses, IPv4 first, without duplicates", () => {
  assert.deepEqual(_selectHostAddresses(INTERFACES, { includeLoopback: false }), [
    "10.0.0.5",
    "fd00::2",
  ]);
});

Deno.test("_selectHostAddresses() adds loopback only when asked", () => {
  assert.deepEqual(
    _selectHostAddresses(INTERFACES, { includeLoopback: true }),
    ["127.0.0.1", "10.0.0.5", "fd00::2", "::1"],
  );
});
