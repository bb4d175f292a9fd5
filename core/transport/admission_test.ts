import assert from "node:assert/strict";
import { AdmissionLimit } from "./admission.ts";

Deno.test("AdmissionLimit refuses past the per-address limit and counts others apart", () => {
  const limit = new AdmissionLimit({ total: 10, perAddress: 2 });
  assert.equal(limit.tryAdmit("192.0.2.1"), undefined);
  assert.equal(limit.tryAdmit("192.0.2.1"), undefined);
  assert.equal(limit.tryAdmit("192.0.2.1"), "per-address");
  assert.equal(limit.tryAdmit("192.0.2.2"), undefined);
  assert.equal(limit.total, 3);
  limit.release("192.0.2.1");
  assert.equal(limit.tryAdmit("192.0.2.1"), undefined);
});

Deno.test("AdmissionLimit refuses past the total and frees on release", () => {
  const limit = new AdmissionLimit({ total: 2, perAddress: 2 });
  assert.equal(limit.tryAdmit("192.0.2.1"), undefined);
  assert.equal(limit.tryAdmit("192.0.2.2"), undefined);
  assert.equal(limit.tryAdmit("192.0.2.3"), "total");
  limit.release("192.0.2.2");
  assert.equal(limit.tryAdmit("192.0.2.3"), undefined);
});

Deno.test("AdmissionLimit counts an IPv4-mapped IPv6 address as its IPv4 address", () => {
  const limit = new AdmissionLimit({ total: 10, perAddress: 1 });
  assert.equal(limit.tryAdmit("::ffff:192.0.2.1"), undefined);
  assert.equal(limit.tryAdmit("192.0.2.1"), "per-address");
  assert.equal(limit.countFor("192.0.2.1"), 1);
  limit.release("192.0.2.1");
  assert.equal(limit.countFor("::FFFF:192.0.2.1"), 0);
  assert.equal(limit.total, 0);
});

Deno.test("AdmissionLimit counts IPv6 addresses by their /64", () => {
  const limit = new AdmissionLimit({ total: 10, perAddress: 1 });
  assert.equal(limit.tryAdmit("2001:db8:1:2::1"), undefined);
  assert.equal(limit.tryAdmit("2001:db8:1:2:ffff::9"), "per-address");
  assert.equal(limit.tryAdmit("2001:db8:1:3::1"), undefined);
  limit.release("2001:DB8:1:2::1");
  assert.equal(limit.countFor("2001:db8:1:2::7"), 0);
});

Deno.test("AdmissionLimit ignores a release it never admitted", () => {
  const limit = new AdmissionLimit({ total: 1, perAddress: 1 });
  limit.release("192.0.2.9");
  assert.equal(limit.total, 0);
  assert.throws(() => new AdmissionLimit({ total: 0, perAddress: 1 }), RangeError);
});
