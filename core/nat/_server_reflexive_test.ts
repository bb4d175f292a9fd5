import assert from "node:assert/strict";
import { _parseStunServer } from "./_server_reflexive.ts";

Deno.test("_parseStunServer() reads host:port, [v6]:port and bare hosts", () => {
  assert.deepEqual(_parseStunServer("stun.example.net:19302"), ["stun.example.net", 19302]);
  assert.deepEqual(_parseStunServer("192.0.2.1"), ["192.0.2.1", 3478]);
  assert.deepEqual(_parseStunServer("[2001:db8::1]:3479"), ["2001:db8::1", 3479]);
  assert.deepEqual(_parseStunServer("2001:db8::1"), ["2001:db8::1", 3478]);
  assert.deepEqual(_parseStunServer("stun:stun.example.net:3478"), ["stun.example.net", 3478]);
});

Deno.test("_parseStunServer() rejects empty hosts and bad ports", () => {
  for (const text of ["", ":3478", "host:0", "host:65536", "host:port", "[::1]:x"]) {
    assert.throws(() => _parseStunServer(text), TypeError, text);
  }
});
