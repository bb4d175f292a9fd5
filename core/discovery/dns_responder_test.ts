import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import {
  decodeDnsPacket,
  decodeTxtData,
  DNS_CLASS_IN,
  DNS_TYPE_TXT,
  type DnsMessage,
  type DnsRecord,
  encodeDnsMessage,
  encodeDnsResponse,
  encodeTxtData,
} from "./dns_packet.ts";
import {
  answerDnsQuery,
  DNS_RCODE,
  DNS_UDP_CLASSIC_SIZE,
  DNS_UDP_PAYLOAD_SIZE,
  type DnsTransport,
  normalizeDnsOrigin,
} from "./dns_responder.ts";
import { SIGNED_PACKET_HEADER_SIZE, signRecord } from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";

const ORIGIN = "dns.example";
const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_OPT = 41;
const TYPE_ANY = 255;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;

const key = SecretKey.generate();
const z32 = endpointIdToZ32(key.endpointId);
const signed = signRecord(key, {
  relayUrls: ["https://relay.example/"],
  addrs: [{ hostname: "192.0.2.1", port: 4433 }],
  timestampMicros: 1n,
});

/** A body whose packet holds `records` (the responder serves what the store checked). */
function bodyOf(records: DnsRecord[]): Uint8Array {
  const packet = encodeDnsResponse(records);
  const body = new Uint8Array(SIGNED_PACKET_HEADER_SIZE + packet.length);
  body.set(packet, SIGNED_PACKET_HEADER_SIZE);
  return body;
}

const otherKey = endpointIdToZ32(SecretKey.generate().endpointId);
const mixed = bodyOf([
  {
    name: `_iroh.${otherKey}`,
    type: DNS_TYPE_TXT,
    class: DNS_CLASS_IN,
    ttl: 60,
    data: encodeTxtData(["a=b"]),
  },
  {
    name: `_iroh.${otherKey}`,
    type: TYPE_A,
    class: DNS_CLASS_IN,
    ttl: 60,
    data: new Uint8Array([192, 0, 2, 7]),
  },
  {
    name: `www.${otherKey}`,
    type: TYPE_CNAME,
    class: DNS_CLASS_IN,
    ttl: 60,
    data: new Uint8Array([1, 120, 0]),
  },
]);
// Enough TXT to pass 512 bytes, not 1232.
const bigKey = endpointIdToZ32(SecretKey.generate().endpointId);
const big = bodyOf(
  Array.from({ length: 6 }, (_, i) => ({
    name: `_iroh.${bigKey}`,
    type: DNS_TYPE_TXT,
    class: DNS_CLASS_IN,
    ttl: 30,
    data: encodeTxtData([`addr=192.0.2.${i}:1 ${"x".repeat(100)}`]),
  })),
);
const records = new Map([[z32, signed], [otherKey, mixed], [bigKey, big]]);
const options = { origin: ORIGIN, lookup: (k: string) => records.get(k) };

function query(
  name: string,
  type = DNS_TYPE_TXT,
  extra: Partial<DnsMessage> & { klass?: number } = {},
): Uint8Array {
  return encodeDnsMessage({
    id: 0x1234,
    flags: 0x0100,
    questions: [{ name, type, class: extra.klass ?? DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
    ...extra,
  }, 65535);
}

function ask(bytes: Uint8Array, transport: DnsTransport = "udp") {
  const answer = answerDnsQuery(bytes, transport, options);
  assert.ok(answer, "an answer");
  const message = decodeDnsPacket(answer);
  return { message, size: answer.length, rcode: message.flags & 0xf };
}

const opt = (size: number, version = 0): DnsRecord => ({
  name: ".",
  type: TYPE_OPT,
  class: size,
  ttl: version << 16,
  data: new Uint8Array(0),
});

Deno.test("answerDnsQuery() serves _iroh.<z32>.<origin> TXT from the store, as signed", () => {
  // Case as asked (0x20 randomization) comes back in question and answers.
  const name = `_IRoh.${z32}.DNS.example`;
  const { message, rcode } = ask(query(name));
  assert.equal(rcode, DNS_RCODE.NOERROR);
  assert.equal(message.id, 0x1234);
  assert.equal(message.flags & FLAG_QR, FLAG_QR);
  assert.equal(message.flags & FLAG_AA, FLAG_AA);
  assert.equal(message.flags & 0x0100, 0x0100, "RD copied");
  assert.deepEqual(message.questions, [{ name, type: DNS_TYPE_TXT, class: DNS_CLASS_IN }]);
  assert.deepEqual(
    message.answers.map((a) => [a.name, a.type, a.ttl, decodeTxtData(a.data).join("")]),
    [
      [name, DNS_TYPE_TXT, 30, "relay=https://relay.example/"],
      [name, DNS_TYPE_TXT, 30, "addr=192.0.2.1:4433"],
    ],
  );
  assert.equal(ask(query(`_iroh.${z32}.${ORIGIN}.`.slice(0, -1))).message.answers.length, 2);
});

Deno.test("answerDnsQuery() answers NXDOMAIN, NOERROR, REFUSED, NOTIMP, FORMERR as iroh-dns-server", () => {
  const rcode = (bytes: Uint8Array) => ask(bytes).rcode;
  const unknown = endpointIdToZ32(SecretKey.generate().endpointId);
  assert.equal(rcode(query(`_iroh.${unknown}.${ORIGIN}`)), DNS_RCODE.NXDOMAIN, "no record");
  assert.equal(rcode(query(`_iroh.notakey.${ORIGIN}`)), DNS_RCODE.NXDOMAIN, "not a key");
  assert.equal(rcode(query(`${z32}.${ORIGIN}`)), DNS_RCODE.NXDOMAIN, "no record at the key itself");
  assert.equal(rcode(query(`_iroh.${z32}.${ORIGIN}`, TYPE_A)), DNS_RCODE.NXDOMAIN, "no A");
  assert.equal(rcode(query(ORIGIN)), DNS_RCODE.NOERROR, "the apex exists");
  assert.equal(ask(query(ORIGIN)).message.answers.length, 0);
  assert.equal(rcode(query(`_iroh.${z32}.other.example`)), DNS_RCODE.REFUSED, "not our zone");
  assert.equal(rcode(query(`x${ORIGIN}`)), DNS_RCODE.REFUSED, "a suffix is not a zone");
  assert.equal(
    rcode(query(`_iroh.${z32}.${ORIGIN}`, DNS_TYPE_TXT, { klass: 3 })),
    DNS_RCODE.REFUSED,
  );
  assert.equal(rcode(query(ORIGIN, 252)), DNS_RCODE.REFUSED, "AXFR");
  assert.equal(rcode(query(ORIGIN, DNS_TYPE_TXT, { flags: 2 << 11 })), DNS_RCODE.NOTIMP, "STATUS");
  const two = query(ORIGIN, DNS_TYPE_TXT, {
    questions: [
      { name: ORIGIN, type: DNS_TYPE_TXT, class: DNS_CLASS_IN },
      { name: ORIGIN, type: TYPE_A, class: DNS_CLASS_IN },
    ],
  });
  assert.equal(rcode(two), DNS_RCODE.FORMERR);
  assert.equal(rcode(query(ORIGIN, DNS_TYPE_TXT, { additionals: [opt(1232), opt(1232)] })), 1);
  assert.equal(rcode(Uint8Array.of(0xab, 0xcd, 1, 0, 0, 5, 0, 0, 0, 0, 0, 0)), DNS_RCODE.FORMERR);
  assert.equal(ask(Uint8Array.of(0xab, 0xcd, 1, 0, 0, 5, 0, 0, 0, 0, 0, 0)).message.id, 0xabcd);
});

Deno.test("answerDnsQuery() serves A, AAAA and TXT only; ANY gets them all", () => {
  const name = `_iroh.${otherKey}.${ORIGIN}`;
  assert.deepEqual(ask(query(name, TYPE_A)).message.answers.map((a) => [...a.data]), [[
    192,
    0,
    2,
    7,
  ]]);
  assert.deepEqual(ask(query(name, TYPE_ANY)).message.answers.map((a) => a.type), [
    DNS_TYPE_TXT,
    TYPE_A,
  ]);
  // A CNAME's RDATA holds a name that may point into the signed packet: not served.
  assert.equal(ask(query(`www.${otherKey}.${ORIGIN}`, TYPE_CNAME)).rcode, DNS_RCODE.NXDOMAIN);
  assert.equal(ask(query(`www.${otherKey}.${ORIGIN}`, TYPE_ANY)).rcode, DNS_RCODE.NXDOMAIN);
});

Deno.test("answerDnsQuery() truncates UDP answers past 512 bytes or the EDNS0 size, never TCP", () => {
  const name = `_iroh.${bigKey}.${ORIGIN}`;
  const classic = ask(query(name));
  assert.equal(classic.message.flags & FLAG_TC, FLAG_TC);
  assert.equal(classic.message.answers.length, 0);
  assert.equal(classic.message.questions[0].name, name);
  assert.ok(classic.size <= DNS_UDP_CLASSIC_SIZE);
  // An EDNS0 size below 512 counts as 512.
  assert.equal(
    ask(query(name, DNS_TYPE_TXT, { additionals: [opt(100)] })).message.flags & FLAG_TC,
    FLAG_TC,
  );
  const edns = ask(query(name, DNS_TYPE_TXT, { additionals: [opt(4096)] }));
  assert.equal(edns.message.flags & FLAG_TC, 0);
  assert.equal(edns.message.answers.length, 6);
  assert.ok(edns.size > DNS_UDP_CLASSIC_SIZE && edns.size <= DNS_UDP_PAYLOAD_SIZE);
  const [ours] = edns.message.additionals;
  assert.deepEqual([ours.type, ours.class, ours.ttl], [TYPE_OPT, DNS_UDP_PAYLOAD_SIZE, 0]);
  const tcp = ask(query(name), "tcp");
  assert.equal(tcp.message.flags & FLAG_TC, 0);
  assert.equal(tcp.message.answers.length, 6);
  assert.equal(tcp.message.additionals.length, 0, "no OPT to a query without one");
});

Deno.test("answerDnsQuery() answers EDNS versions above 0 with BADVERS", () => {
  const { message, rcode } = ask(query(ORIGIN, DNS_TYPE_TXT, { additionals: [opt(1232, 1)] }));
  assert.equal(rcode, 0);
  assert.equal(message.additionals[0].ttl >>> 24, 1, "extended rcode 16 = BADVERS");
  assert.equal(message.answers.length, 0);
});

Deno.test("answerDnsQuery() gives no answer to answers or runts, and survives any bytes", () => {
  const answered = query(`_iroh.${z32}.${ORIGIN}`);
  answered[2] |= 0x80;
  assert.equal(answerDnsQuery(answered, "udp", options), undefined);
  assert.equal(answerDnsQuery(new Uint8Array(11), "udp", options), undefined);
  const base = query(`_iroh.${z32}.${ORIGIN}`, DNS_TYPE_TXT, { additionals: [opt(4096)] });
  const check = (bytes: Uint8Array, transport: DnsTransport) => {
    const answer = answerDnsQuery(bytes, transport, options);
    if (!answer) return;
    assert.ok(transport === "tcp" || answer.length <= DNS_UDP_PAYLOAD_SIZE);
    const message = decodeDnsPacket(answer);
    assert.equal(message.id, (bytes[0] << 8) | bytes[1]);
    assert.equal(message.flags & FLAG_QR, FLAG_QR);
  };
  for (let bit = 0; bit < base.length * 8; bit++) {
    const flipped = base.slice();
    flipped[bit >> 3] ^= 1 << (bit & 7);
    check(flipped, bit % 2 ? "udp" : "tcp");
  }
  for (let length = 0; length < base.length; length++) check(base.subarray(0, length), "udp");
  for (let i = 0; i < 5_000; i++) {
    const random = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 300)));
    if (random.length >= 12) random.set([random[2] & 0x7f, 0, 0, 1, 0, 0, 0, random[11] & 1], 2);
    check(random, "udp");
  }
  // Larger than any pkarr-sized message: FORMERR, not a throw.
  const huge = new Uint8Array(5_000);
  assert.equal(decodeDnsPacket(answerDnsQuery(huge, "tcp", options)!).flags & 0xf, 1);
});

Deno.test("normalizeDnsOrigin() lowercases, drops the root dot, refuses what is not a name", () => {
  assert.equal(normalizeDnsOrigin("DNS.Example.org."), "dns.example.org");
  for (const bad of ["", ".", "a..b", "a b", "-a.example", "x".repeat(64), "a/b"]) {
    assert.throws(() => normalizeDnsOrigin(bad), /Invalid DNS origin/);
  }
});
