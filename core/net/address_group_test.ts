import assert from "node:assert/strict";
import { addressGroup } from "./address_group.ts";

Deno.test("address group: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64", () => {
  assert.equal(addressGroup("127.0.0.2"), "127.0.0.2");
  assert.equal(addressGroup("::ffff:127.0.0.2"), "127.0.0.2");
  assert.equal(addressGroup("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.equal(
    addressGroup("2001:0db8:0001:0002:ffff:eeee:dddd:cccc"),
    addressGroup("2001:db8:1:2::9"),
    "one /64, one group",
  );
  assert.notEqual(addressGroup("2001:db8:1:2::1"), addressGroup("2001:db8:1:3::1"));
  assert.equal(addressGroup("::1"), "0:0:0:0::/64");
  assert.equal(addressGroup("unknown"), "unknown");
  assert.equal(addressGroup(""), "");
});
