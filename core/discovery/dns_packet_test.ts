import assert from "node:assert/strict";
import {
  decodeDnsPacket,
  decodeTxtData,
  DNS_TYPE_TXT,
  DnsPacketError,
  encodeDnsResponse,
  encodeTxtData,
} from "./dns_packet.ts";
import { bytesOf, IROH_PACKET, IROH_RECORDS, txt } from "./_test_vectors.ts";

Deno.test("encodeDnsResponse() writes iroh's layout byte for byte", () => {
  assert.deepEqual(encodeDnsResponse(IROH_RECORDS), IROH_PACKET);
});

Deno.test("decodeDnsPacket() reads iroh's layout back", () => {
  const message = decodeDnsPacket(IROH_PACKET);
  assert.equal(message.id, 0);
  assert.equal(message.flags, 0x8000);
  assert.deepEqual(message.questions, []);
  assert.deepEqual(message.answers, IROH_RECORDS);
  assert.deepEqual(message.answers.map((r) => decodeTxtData(r.data)), [
    ["relay=https://example.com/"],
    ["addr=127.0.0.1:1234"],
    ["user-data=foobar"],
  ]);
});

Deno.test("encodeDnsResponse() points at shared suffixes, as iroh's DNS library does", () => {
  const packet = encodeDnsResponse([
    { name: "a.zone", type: 1, class: 1, ttl: 5, data: Uint8Array.of(192, 0, 2, 1) },
    { name: "b.zone", type: 1, class: 1, ttl: 5, data: Uint8Array.of(192, 0, 2, 2) },
    { name: "zone", type: 1, class: 1, ttl: 5, data: Uint8Array.of(192, 0, 2, 3) },
  ]);
  assert.deepEqual(
    packet.subarray(12),
    bytesOf(
      "01", // offset 12
      '"a',
      "04", // offset 14
      '"zone',
      "00 0001 0001 00000005 0004 c0000201",
      "01",
      '"b',
      "c00e 0001 0001 00000005 0004 c0000202",
      "c00e 0001 0001 00000005 0004 c0000203",
    ),
  );
  assert.deepEqual(decodeDnsPacket(packet).answers.map((r) => r.name), [
    "a.zone",
    "b.zone",
    "zone",
  ]);
});

Deno.test("decodeDnsPacket() reads questions, all sections, the root and escaped labels", () => {
  const packet = bytesOf(
    "1234 0100 0001 0001 0001 0001",
    "03", // a label holding a dot
    '"a.b',
    "00 0010 0001",
    "00 0001 0001 00000000 0000", // answer at the root
    "c00c 0002 0001 00000e10 0000", // authority: pointer to the question's name
    "02 5c ff 00 0029 1000 00000000 0000", // additional: label bytes "\" and 0xff
  );
  const message = decodeDnsPacket(packet);
  assert.equal(message.id, 0x1234);
  assert.deepEqual(message.questions, [{ name: "a\\046b", type: 16, class: 1 }]);
  assert.equal(message.answers[0].name, ".");
  assert.equal(message.authorities[0].name, "a\\046b");
  assert.equal(message.authorities[0].ttl, 3600);
  assert.equal(message.additionals[0].name, "\\092\\255");
  assert.equal(message.additionals[0].type, 41);
});

Deno.test("decodeDnsPacket() refuses pointer loops and pointers that do not point back", () => {
  const header = "0000 8000 0000 0001 0000 0000";
  const cases: [string, Uint8Array][] = [
    ["to itself", bytesOf(header, "c00c")],
    ["forward", bytesOf(header, "c00e 00")],
    ["into the header", bytesOf(header, "c002")],
    ["past the end", bytesOf(header, "c3ff")],
    ["a loop through a label", bytesOf(header, "01", '"a', "c00c")],
  ];
  for (const [what, packet] of cases) {
    assert.throws(
      () => decodeDnsPacket(packet),
      (e) => e instanceof DnsPacketError && /pointer/.test(e.message),
      what,
    );
  }
});

Deno.test("decodeDnsPacket() refuses malformed packets with its own error", () => {
  const header = (counts: string) => `0000 8000 ${counts}`;
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /shorter than its header/],
    ["over 1000 bytes", new Uint8Array(1001), /exceeds the limit of 1000/],
    ["a missing answer", bytesOf(header("0000 0001 0000 0000")), /truncated/],
    ["Z bit", bytesOf("0000 8040 0000 0000 0000 0000"), /reserved bit Z/],
    ["trailing bytes", bytesOf(header("0000 0000 0000 0000"), "00"), /1 bytes after/],
    ["label type 01", bytesOf(header("0001 0000 0000 0000"), "41"), /label type 0x40/],
    ["label type 10", bytesOf(header("0001 0000 0000 0000"), "81"), /label type 0x80/],
    ["label overrun", bytesOf(header("0001 0000 0000 0000"), "05", '"ab'), /truncated in a label/],
    [
      "RDATA overrun",
      bytesOf(header("0000 0001 0000 0000"), "00 0001 0001 00000000 0005 00"),
      /truncated in RDATA/,
    ],
    [
      "TXT string overrun",
      bytesOf(header("0000 0001 0000 0000"), "00 0010 0001 00000000 0002 05 61"),
      /overruns its RDATA/,
    ],
    [
      "name over 255 bytes",
      bytesOf(header("0001 0000 0000 0000"), ...Array(5).fill(["3f", `"${"x".repeat(63)}`]).flat()),
      /longer than 255 bytes/,
    ],
  ];
  for (const [what, packet, message] of cases) {
    assert.throws(
      () => decodeDnsPacket(packet),
      (e) => e instanceof DnsPacketError && message.test(e.message),
      what,
    );
  }
});

Deno.test("decodeDnsPacket() keeps TXT that is not UTF-8; decodeTxtData() refuses it", () => {
  const packet = bytesOf("0000 8000 0000 0001 0000 0000", "00 0010 0001 00000000 0002 01 ff");
  const [record] = decodeDnsPacket(packet).answers;
  assert.deepEqual(record.data, Uint8Array.of(1, 0xff));
  assert.throws(() => decodeTxtData(record.data), /not UTF-8/);
  assert.deepEqual(decodeTxtData(new Uint8Array(0)), []);
});

/** Any outcome but an error other than the codec's own. */
function decodeOrCodecError(bytes: Uint8Array): void {
  try {
    const message = decodeDnsPacket(bytes);
    for (const record of message.answers) {
      if (record.type === DNS_TYPE_TXT) {
        try {
          decodeTxtData(record.data);
        } catch (error) {
          if (!(error instanceof DnsPacketError)) throw error;
        }
      }
    }
  } catch (error) {
    if (!(error instanceof DnsPacketError)) throw error;
  }
}

Deno.test("decodeDnsPacket() survives truncation, bit flips and random bytes", () => {
  for (let length = 0; length < IROH_PACKET.length; length++) {
    assert.throws(() => decodeDnsPacket(IROH_PACKET.subarray(0, length)), DnsPacketError);
  }
  for (let bit = 0; bit < IROH_PACKET.length * 8; bit++) {
    const flipped = IROH_PACKET.slice();
    flipped[bit >> 3] ^= 1 << (bit & 7);
    decodeOrCodecError(flipped);
  }
  for (let i = 0; i < 5_000; i++) {
    const random = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 200)));
    // Small counts make random bytes reach the name and record readers.
    if (random.length >= 12) random.set([0, 0, 0, 0, 0, random[5] & 3, 0, random[7] & 3], 2);
    decodeOrCodecError(random);
  }
});

Deno.test("encodeDnsResponse() refuses bad names and fields, and packets over 1000 bytes", () => {
  const record = IROH_RECORDS[0];
  assert.throws(() => encodeDnsResponse([{ ...record, name: "" }]), TypeError);
  assert.throws(() => encodeDnsResponse([{ ...record, name: "a..b" }]), TypeError);
  assert.throws(() => encodeDnsResponse([{ ...record, name: "a b" }]), TypeError);
  assert.throws(() => encodeDnsResponse([{ ...record, name: "x".repeat(64) }]), TypeError);
  assert.throws(
    () => encodeDnsResponse([{ ...record, name: Array(5).fill("x".repeat(63)).join(".") }]),
    /longer than 255 bytes/,
  );
  assert.throws(() => encodeDnsResponse([{ ...record, ttl: -1 }]), RangeError);
  assert.throws(() => encodeDnsResponse([{ ...record, ttl: 2 ** 32 }]), RangeError);
  assert.throws(() => encodeDnsResponse([{ ...record, type: 65536 }]), RangeError);
  assert.throws(
    () => encodeDnsResponse(Array(40).fill(txt("relay=https://a-long-relay-name.example/"))),
    /limit of 1000 bytes/,
  );
  assert.throws(() => encodeTxtData([]), RangeError);
  assert.throws(() => encodeTxtData(["x".repeat(256)]), /256 bytes exceeds the limit of 255/);
  assert.equal(encodeTxtData(["x".repeat(255)]).length, 256);
});
