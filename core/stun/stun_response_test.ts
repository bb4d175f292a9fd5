import assert from "node:assert/strict";
import dgram from "node:dgram";
import { _crc32 } from "./_crc32.ts";
import { _checkBindingRequest, stunResponse } from "./stun_response.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g) ?? [], (b) => parseInt(b, 16));
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// RFC 5769 test vectors: 2.1 sample request (SOFTWARE, PRIORITY, ICE-CONTROLLED,
// USERNAME, MESSAGE-INTEGRITY, FINGERPRINT), and the XOR-MAPPED-ADDRESS and
// FINGERPRINT of the 2.2 (IPv4) and 2.3 (IPv6) sample responses.
const RFC5769_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
const RFC5769_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
const RFC5769_IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
const TRANSACTION_ID = "b7e7a701bc34d686fa87dfae";
const V4 = { hostname: "192.0.2.1", port: 32853 };
const V6 = { hostname: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853 };

/** FINGERPRINT value for a message whose FINGERPRINT attribute starts at `end`. */
const fingerprint = (message: Uint8Array, end: number) =>
  (_crc32(message.subarray(0, end)) ^ 0x5354554e) >>> 0;
/** A Binding request with `attributes` (hex) and a transaction id of `id`. */
const request = (attributes = "", id = TRANSACTION_ID) => {
  const body = hex(attributes);
  return hex(`0001 ${body.length.toString(16).padStart(4, "0")} 2112a442 ${id} ${toHex(body)}`);
};

Deno.test("_crc32() gives the FINGERPRINTs of RFC 5769's vectors", () => {
  for (const vector of [RFC5769_REQUEST, RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE]) {
    const end = vector.length - 8;
    assert.equal(fingerprint(vector, end), new DataView(vector.buffer).getUint32(end + 4));
  }
  assert.equal(_crc32(new TextEncoder().encode("123456789")), 0xcbf43926); // the CRC-32 check value
});

Deno.test("stunResponse() answers RFC 5769's request with its XOR-MAPPED-ADDRESS, IPv4 and IPv6", () => {
  const v4 = stunResponse(RFC5769_REQUEST, V4)!;
  assert.equal(
    toHex(v4),
    "010100142112a442" + TRANSACTION_ID + // success, 20 bytes of attributes
      toHex(RFC5769_IPV4_RESPONSE.subarray(36, 48)) + // 0020 0008 0001 a147 e112a643
      "80280004" + fingerprint(v4, 32).toString(16).padStart(8, "0"),
  );
  assert.equal(toHex(v4.subarray(20, 32)), "002000080001a147e112a643");
  const v6 = stunResponse(RFC5769_REQUEST, V6)!;
  assert.equal(toHex(v6.subarray(0, 20)), "010100202112a442" + TRANSACTION_ID);
  assert.deepEqual(v6.subarray(20, 44), RFC5769_IPV6_RESPONSE.subarray(36, 60));
  assert.equal(toHex(v6.subarray(44, 48)), "80280004");
  assert.equal(new DataView(v6.buffer).getUint32(48), fingerprint(v6, 44));
});

Deno.test("stunResponse() takes an IPv4-mapped or zoned source as the address it is", () => {
  const mapped = stunResponse(request(), { hostname: "::ffff:192.0.2.1", port: 32853 })!;
  assert.equal(toHex(mapped.subarray(20, 32)), "002000080001a147e112a643");
  const zoned = stunResponse(request(), { hostname: "fe80::1%eth0", port: 1 })!;
  assert.equal(toHex(zoned.subarray(20, 26)), "002000140002");
  assert.equal(stunResponse(request(), { hostname: "fe80::1", port: 1 })!.length, zoned.length);
});

Deno.test("stunResponse() answers unknown comprehension-required attributes with 420", () => {
  // RFC 5780's CHANGE-REQUEST (0x0003) and RESPONSE-PORT (0x0027) twice, then
  // SOFTWARE (0x8022, comprehension-optional: fine).
  const answer = stunResponse(
    request("0003 0004 00000006  0027 0004 b50b0000  0003 0004 00000000  8022 0001 61000000"),
    V4,
  )!;
  assert.equal(
    toHex(answer.subarray(0, answer.length - 4)),
    "0111002c2112a442" + TRANSACTION_ID +
      "0009 0015 00000414".replace(/ /g, "") +
      toHex(new TextEncoder().encode("Unknown Attribute")) + "000000" +
      "000a0004 00030027".replace(/ /g, "") +
      "80280004",
  );
  assert.equal(
    new DataView(answer.buffer).getUint32(answer.length - 4),
    fingerprint(answer, answer.length - 8),
  );
  // After MESSAGE-INTEGRITY nothing but FINGERPRINT counts (RFC 5389 15.4).
  const afterIntegrity = request(`0008 0014 ${"00".repeat(20)}  0003 0004 00000000`);
  assert.equal(stunResponse(afterIntegrity, V4)![1], 0x01);
});

Deno.test("stunResponse() ignores everything but a well-formed Binding request", () => {
  const valid = request("8022 0003 616263 00");
  assert.ok(stunResponse(valid, V4));
  const withFingerprint = (message: Uint8Array) => {
    const out = new Uint8Array(message.length + 8);
    out.set(message);
    const view = new DataView(out.buffer);
    view.setUint16(2, message.length - 20 + 8);
    view.setUint32(message.length, 0x80280004);
    view.setUint32(message.length + 4, fingerprint(out, message.length));
    return out;
  };
  assert.ok(stunResponse(withFingerprint(valid), V4));
  const badFingerprint = withFingerprint(valid);
  badFingerprint[badFingerprint.length - 1] ^= 1;
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["19 bytes", valid.subarray(0, 19)],
    ["a response", RFC5769_IPV4_RESPONSE],
    ["an indication", hex(`0011 0000 2112a442 ${TRANSACTION_ID}`)],
    ["another method", hex(`0003 0000 2112a442 ${TRANSACTION_ID}`)],
    ["RFC 3489, no magic cookie", hex(`0001 0000 00000000 ${TRANSACTION_ID}`)],
    ["top bits set", hex(`c001 0000 2112a442 ${TRANSACTION_ID}`)],
    ["length too long", hex(`0001 0004 2112a442 ${TRANSACTION_ID}`)],
    ["length not a multiple of 4", hex(`0001 0002 2112a442 ${TRANSACTION_ID} 0000`)],
    ["attribute overruns", request("8022 0005 61626364")],
    ["a bad FINGERPRINT", badFingerprint],
    ["FINGERPRINT not last", request(`8028 0004 00000000 8022 0000`)],
    ["a datagram of text", new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
  ];
  for (const [what, datagram] of cases) assert.equal(stunResponse(datagram, V4), undefined, what);
  for (const from of [{ hostname: "example.com", port: 1 }, { hostname: "192.0.2.1", port: 0 }]) {
    assert.equal(stunResponse(valid, from), undefined, JSON.stringify(from));
  }
});

Deno.test("stunResponse() never throws: random bytes, truncations, bit flips", () => {
  const sources = [V4, V6, { hostname: "", port: NaN }, {
    hostname: 5 as unknown as string,
    port: 1,
  }];
  for (let length = 0; length <= RFC5769_REQUEST.length; length++) {
    _checkBindingRequest(RFC5769_REQUEST.subarray(0, length));
    for (const from of sources) stunResponse(RFC5769_REQUEST.subarray(0, length), from);
  }
  for (let bit = 0; bit < RFC5769_REQUEST.length * 8; bit++) {
    const flipped = RFC5769_REQUEST.slice();
    flipped[bit >> 3] ^= 1 << (bit & 7);
    // Most flips break the FINGERPRINT; one that hides it inside a longer USERNAME
    // leaves a request without one, which is valid. Answers keep the transaction id.
    _checkBindingRequest(flipped);
    const answer = stunResponse(flipped, V4);
    if (answer) assert.deepEqual(answer.subarray(8, 20), flipped.subarray(8, 20), `bit ${bit}`);
  }
  for (let i = 0; i < 5_000; i++) {
    const random = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 120)));
    if (i % 2 && random.length >= 20) random.set(request().subarray(0, 8)); // a plausible header
    if (random.length >= 4) new DataView(random.buffer).setUint16(2, (random.length - 20) & 0xfffc);
    _checkBindingRequest(random); // bare: a bounds bug would throw here
    stunResponse(random, sources[i % sources.length]);
  }
});

Deno.test({
  name: "stunResponse() is read correctly by werift, the project's STUN client",
  // werift's logger reads the environment when it loads (see core/nat/_werift.ts).
  ignore: Deno.permissions.querySync({ name: "env" }).state !== "granted",
}, async () => {
  const werift = await import("werift-ice");
  const ask = new werift.Message(werift.methods.BINDING, werift.classes.REQUEST);
  for (const withFingerprint of [false, true]) {
    if (withFingerprint) ask.addFingerprint();
    for (const from of [V4, V6]) {
      const answer = stunResponse(new Uint8Array(ask.bytes), from)!;
      const parsed = werift.parseMessage(Buffer.from(answer))!; // checks the FINGERPRINT too
      assert.equal(parsed.messageClass, werift.classes.RESPONSE);
      assert.equal(parsed.transactionIdHex, ask.transactionIdHex);
      assert.deepEqual(parsed.getAttributeValue("XOR-MAPPED-ADDRESS"), [from.hostname, from.port]);
    }
  }
});

const hasStunClient = (() => {
  try {
    return Deno.permissions.querySync({ name: "run", command: "turnutils_stunclient" }).state ===
        "granted" &&
      Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state === "granted";
  } catch {
    return false;
  }
})();

Deno.test({
  name: "stunResponse() on a UDP socket answers coturn's turnutils_stunclient",
  ignore: !hasStunClient,
  async fn() {
    const socket = dgram.createSocket("udp4");
    socket.on("message", (datagram, source) => {
      const answer = stunResponse(new Uint8Array(datagram), {
        hostname: source.address,
        port: source.port,
      });
      if (answer) socket.send(answer, source.port, source.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    try {
      const { code, stdout } = await new Deno.Command("turnutils_stunclient", {
        args: ["-p", String(socket.address().port), "127.0.0.1"],
        stdout: "piped",
        stderr: "piped",
      }).output().catch((error) => {
        throw new Error("turnutils_stunclient (from coturn) did not run", { cause: error });
      });
      const text = new TextDecoder().decode(stdout);
      assert.equal(code, 0, text);
      assert.match(text, /UDP reflexive addr: 127\.0\.0\.1:\d+/);
    } finally {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    }
  },
});
