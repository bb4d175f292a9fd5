import assert from "node:assert/strict";
import { Cidr, formatIp, parseIp } from "../net/mod.ts";
import { AddressPool, parseVpnAddress } from "./address_pool.ts";

Deno.test("AddressPool gives the server .1 and clients the next free addresses", () => {
  const pool = new AddressPool(Cidr.parse("10.0.0.0/24"));
  assert.equal(formatIp(pool.serverAddress), "10.0.0.1");
  assert.equal(pool.capacity, 253);
  assert.equal(pool.lease("a")?.text, "10.0.0.2");
  assert.equal(pool.lease("b")?.text, "10.0.0.3");
  assert.equal(pool.size, 2);
});

Deno.test("AddressPool skips an overridden server address", () => {
  const pool = new AddressPool(Cidr.parse("10.9.0.0/29"), parseIp("10.9.0.3"));
  const texts = ["a", "b", "c", "d", "e"].map((id) => pool.lease(id)?.text);
  assert.deepEqual(texts, ["10.9.0.1", "10.9.0.2", "10.9.0.4", "10.9.0.5", "10.9.0.6"]);
  assert.equal(pool.lease("f"), undefined);
});

Deno.test("AddressPool refuses when full and frees an address on release", () => {
  const pool = new AddressPool(Cidr.parse("10.0.0.0/30"));
  assert.equal(pool.capacity, 1);
  const first = pool.lease("a")!;
  assert.equal(first.text, "10.0.0.2");
  assert.equal(pool.lease("b"), undefined);
  pool.release(first);
  assert.equal(pool.lease("b")?.text, "10.0.0.2");
});

Deno.test("AddressPool gives a reconnecting instance its address back", () => {
  const pool = new AddressPool(Cidr.parse("10.0.0.0/24"));
  const first = pool.lease("a")!;
  pool.lease("b");
  // Still held (the old session has not ended): taken over, same address.
  const again = pool.lease("a")!;
  assert.equal(again.text, first.text);
  pool.release(first);
  assert.equal(pool.holderOf(again.address), again, "the old session's end keeps it");
  pool.release(again);
  pool.lease("c");
  assert.equal(pool.lease("a")?.text, first.text, "free again, so it comes back");
});

Deno.test("AddressPool: releasing an old lease does not free the newer session's", () => {
  const pool = new AddressPool(Cidr.parse("10.0.0.0/24"));
  const old = pool.lease("a")!;
  pool.release(old);
  const fresh = pool.lease("a")!;
  assert.equal(fresh.text, old.text);
  pool.release(old);
  assert.equal(pool.holderOf(fresh.address), fresh);
});

Deno.test("AddressPool rejects networks it cannot serve", () => {
  assert.throws(() => new AddressPool(Cidr.parse("fd00::/64")), /only IPv4/);
  assert.throws(() => new AddressPool(Cidr.parse("10.0.0.0/31")), /too small/);
  assert.throws(
    () => new AddressPool(Cidr.parse("10.0.0.0/24"), parseIp("10.0.1.1")),
    /not a host address of 10.0.0.0\/24/,
  );
  assert.throws(
    () => new AddressPool(Cidr.parse("10.0.0.0/24"), parseIp("10.0.0.255")),
    /not a host address/,
  );
  assert.throws(() => parseVpnAddress("fd00::1", "--server-ip"), /not an IPv4 address/);
});
