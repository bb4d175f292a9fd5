import assert from "node:assert/strict";
import { decodeIfreqName, encodeIfreq, IFF_NO_PI, IFF_TUN, IFREQ_SIZE } from "./ifreq_linux.ts";

Deno.test("encodeIfreq() puts the name first and the flags at offset 16", () => {
  const ifr = encodeIfreq("tun-vpn0", IFF_TUN | IFF_NO_PI);
  assert.equal(ifr.length, IFREQ_SIZE);
  assert.equal(new TextDecoder().decode(ifr.subarray(0, 8)), "tun-vpn0");
  assert.equal(ifr[8], 0);
  assert.equal(new DataView(ifr.buffer).getUint16(16, true), 0x1001);
});

Deno.test("decodeIfreqName() reads back the name the kernel chose", () => {
  const ifr = encodeIfreq("tun%d", IFF_TUN);
  ifr.set(new TextEncoder().encode("tun12\0"));
  assert.equal(decodeIfreqName(ifr), "tun12");
});

Deno.test("decodeIfreqName() rejects an unterminated, empty or short buffer", () => {
  assert.throws(() => decodeIfreqName(new Uint8Array(16).fill(0x41)), RangeError);
  assert.throws(() => decodeIfreqName(new Uint8Array(8)), RangeError);
  assert.throws(() => decodeIfreqName(new Uint8Array(40)), RangeError);
});

Deno.test("encodeIfreq() refuses names the kernel would refuse, naming them", () => {
  for (const name of ["", "sixteen-chars-xx", "a/b", "a b", "tun%s", "t%d%d", ".."]) {
    assert.throws(
      () => encodeIfreq(name, IFF_TUN),
      (e: Error) => e instanceof TypeError && e.message.includes(`'${name}'`),
    );
  }
  assert.equal(encodeIfreq("fifteen-chars-x", IFF_TUN).length, IFREQ_SIZE);
});
