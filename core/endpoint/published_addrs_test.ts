import assert from "node:assert/strict";
import { publishedAddrs } from "./published_addrs.ts";

const LISTENING = ["127.0.0.1:7000", "192.168.1.20:7000", "[::1]:7000", "[2001:db8::5]:7000"];

Deno.test("publishedAddrs(): a record bound for another machine carries no loopback address", () => {
  assert.deepEqual(publishedAddrs(LISTENING, "https://dns.example/pkarr"), [
    { hostname: "192.168.1.20", port: 7000 },
    { hostname: "2001:db8::5", port: 7000 },
  ]);
});

Deno.test("publishedAddrs(): a pkarr relay on this machine gets the loopback addresses too", () => {
  for (
    const pkarr of [
      "http://127.0.0.1:3340/pkarr",
      "http://[::1]:3340/pkarr",
      "http://localhost/pkarr",
    ]
  ) {
    assert.equal(publishedAddrs(LISTENING, pkarr).length, 4, pkarr);
  }
});

Deno.test("publishedAddrs(): a hint that is no address is left out", () => {
  assert.deepEqual(
    publishedAddrs(["[::]:7000 (all interfaces; no address found)"], "http://127.0.0.1/pkarr"),
    [],
  );
});

Deno.test("publishedAddrs(): the DHT's record carries no loopback address", () => {
  assert.deepEqual(publishedAddrs(LISTENING, undefined), [
    { hostname: "192.168.1.20", port: 7000 },
    { hostname: "2001:db8::5", port: 7000 },
  ]);
});
