import assert from "node:assert/strict";
import { formatIp, parseIp } from "./ip.ts";

const ip = (s: string) => parseIp(s)!;

Deno.test("parseIp() reads the usual IPv6 forms and formatIp() compresses them", () => {
  assert.equal(formatIp(ip("::1")), "::1");
  assert.equal(formatIp(ip("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(formatIp(ip("::")), "::");
  assert.equal(formatIp(ip("::ffff:1.2.3.4")), "1.2.3.4");
  for (const bad of [":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1.2.3", "::1.2.3.256"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});
