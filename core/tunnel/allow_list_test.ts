import assert from "node:assert/strict";
import { AllowList, Cidr, formatIp, parseIp } from "./allow_list.ts";
import { resolveAllowed } from "./resolver.ts";

const ip = (s: string) => parseIp(s)!;

Deno.test("Cidr.contains() matches IPv4 and IPv6 prefixes", () => {
  const v4 = Cidr.parse("192.168.0.0/16");
  assert.ok(v4.contains(ip("192.168.255.1")));
  assert.ok(!v4.contains(ip("192.169.0.1")));
  assert.ok(Cidr.parse("10.1.2.3").contains(ip("10.1.2.3")));
  assert.ok(!Cidr.parse("10.1.2.3").contains(ip("10.1.2.4")));
  assert.ok(Cidr.parse("0.0.0.0/0").contains(ip("8.8.8.8")));
  const v6 = Cidr.parse("fd00::/8");
  assert.ok(v6.contains(ip("fd12:3456::1")));
  assert.ok(!v6.contains(ip("fe80::1")));
  assert.ok(!v6.contains(ip("10.0.0.1")), "an IPv6 rule never matches IPv4");
});

Deno.test("IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry", () => {
  const list = new AllowList(["127.0.0.0/8"]);
  assert.ok(list.allows(ip("::ffff:127.0.0.1")));
  assert.ok(list.allows(ip("::ffff:7f00:1")));
  assert.ok(!list.allows(ip("::ffff:10.0.0.1")));
  assert.ok(new AllowList(["::ffff:10.0.0.0/104"]).allows(ip("10.9.9.9")));
});

Deno.test("Cidr.parse() names what is wrong", () => {
  assert.throws(() => Cidr.parse("10.0.0.0/33"), /prefix must be 0 to 32/);
  assert.throws(() => Cidr.parse("::/129"), /prefix must be 0 to 128/);
  assert.throws(() => Cidr.parse("10.0.0.1/8"), /host bits are set/);
  assert.throws(() => Cidr.parse("300.0.0.0/8"), /not an IP address/);
  assert.throws(() => Cidr.parse("010.0.0.0/8"), /not an IP address/);
  assert.throws(() => Cidr.parse("example.com/8"), /not an IP address/);
  assert.throws(() => Cidr.parse("10.0.0.0/8/8"), /more than one/);
  assert.throws(() => Cidr.parse("10.0.0.0/x"), /prefix/);
});

Deno.test("parseIp() reads the usual IPv6 forms and formatIp() compresses them", () => {
  assert.equal(formatIp(ip("::1")), "::1");
  assert.equal(formatIp(ip("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(formatIp(ip("::")), "::");
  assert.equal(formatIp(ip("::ffff:1.2.3.4")), "1.2.3.4");
  for (const bad of [":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1.2.3", "::1.2.3.256"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("resolveAllowed() keeps only allowed resolved addresses", async () => {
  const list = new AllowList(["127.0.0.0/8"]);
  const resolver = (answers: string[]) => () => Promise.resolve(answers);
  assert.deepEqual(await resolveAllowed("svc", list, resolver(["10.0.0.1", "127.0.0.5"])), {
    allowed: true,
    addresses: ["127.0.0.5"],
  });
  const denied = await resolveAllowed("svc", list, resolver(["10.0.0.1", "::ffff:192.168.1.1"]));
  assert.deepEqual(denied, {
    allowed: false,
    reason: "svc (10.0.0.1, 192.168.1.1) is not in the server's allowed networks",
  });
  const failing = () => Promise.reject(new Error("NXDOMAIN"));
  assert.match(
    (await resolveAllowed("nope", list, failing) as { reason: string }).reason,
    /cannot resolve/,
  );
  assert.equal((await resolveAllowed("::ffff:127.0.0.1", list, failing)).allowed, true);
});
