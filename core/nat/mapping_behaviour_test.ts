import assert from "node:assert/strict";
import { advertisedMapping, classifyMapping } from "./mapping_behaviour.ts";
import type { IceCandidate } from "./ice_candidate.ts";

Deno.test("classifyMapping: two distinct servers agree -> independent, differ -> dependent", () => {
  const a = { server: "198.51.100.1 3478", mapped: "203.0.113.5 50000" };
  assert.equal(
    classifyMapping([a, { server: "198.51.100.2 3478", mapped: "203.0.113.5 50000" }]),
    "independent",
  );
  assert.equal(
    classifyMapping([a, { server: "198.51.100.2 3478", mapped: "203.0.113.5 61234" }]),
    "dependent",
  );
  // Another port of the same server is another destination too.
  assert.equal(
    classifyMapping([a, { server: "198.51.100.1 3479", mapped: "203.0.113.5 61234" }]),
    "dependent",
  );
});

Deno.test("classifyMapping: fewer than two distinct servers -> unknown", () => {
  assert.equal(classifyMapping([]), "unknown");
  const a = { server: "198.51.100.1 3478", mapped: "203.0.113.5 50000" };
  assert.equal(classifyMapping([a]), "unknown");
  assert.equal(classifyMapping([a, { ...a }]), "unknown", "one server asked twice");
});

const srflx = (address: string, mapping?: "independent" | "dependent"): IceCandidate => ({
  foundation: "1",
  component: 1,
  transport: "udp",
  priority: 1,
  address,
  port: 4000,
  type: "srflx",
  ...(mapping ? { mapping } : {}),
});

Deno.test("advertisedMapping: IPv4 srflx candidates decide; none, untagged or mixed -> unknown", () => {
  assert.equal(advertisedMapping([srflx("203.0.113.5", "dependent")]), "dependent");
  assert.equal(
    advertisedMapping([srflx("203.0.113.5", "independent"), srflx("2001:db8::1")]),
    "independent",
    "IPv6 does not count",
  );
  assert.equal(advertisedMapping([]), "unknown");
  assert.equal(advertisedMapping([srflx("203.0.113.5")]), "unknown");
  assert.equal(
    advertisedMapping([srflx("203.0.113.5", "independent"), srflx("203.0.113.6", "dependent")]),
    "unknown",
  );
});
