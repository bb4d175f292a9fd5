import assert from "node:assert/strict";
import { Cidr } from "./cidr.ts";
import { parseIp } from "./ip.ts";

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

Deno.test("Cidr.containing() clears the host bits of an interface address", () => {
  const network = Cidr.containing(parseIp("10.0.5.77")!, 22);
  assert.equal(network.text, "10.0.4.0/22");
  assert.ok(network.contains(parseIp("10.0.7.255")!));
  assert.ok(!network.contains(parseIp("10.0.8.0")!));
  assert.equal(Cidr.containing(parseIp("2001:db8::1")!, 64).text, "2001:db8::/64");
  assert.throws(() => Cidr.containing(parseIp("10.0.0.1")!, 33), RangeError);
});
