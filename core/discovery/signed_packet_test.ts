import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { EndpointId, SecretKey } from "../identity/mod.ts";
import { DNS_CLASS_IN, DNS_TYPE_TXT, encodeDnsResponse, encodeTxtData } from "./dns_packet.ts";
import {
  _openSignedPacket,
  _signable,
  MAX_SIGNED_PACKET_BODY,
  type PkarrRecord,
  SignedPacketError,
  signRecord,
  verifySignedPacket,
} from "./signed_packet.ts";
import { endpointIdToZ32 } from "./z32.ts";
import { bytesOf, IROH_PACKET, IROH_SECRET, IROH_Z32, txt } from "./_test_vectors.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const IROH_KEY = new SecretKey(EndpointId.parse(IROH_SECRET).bytes);
/** 2024-10-18T13:24:21Z in microseconds. */
const TIMESTAMP = 1_729_257_861_000_000n;

/** Signs an arbitrary DNS packet the way signRecord() does. */
function signPacket(key: SecretKey, timestamp: bigint, packet: Uint8Array): Uint8Array {
  const body = new Uint8Array(72 + packet.length);
  body.set(key.sign(_signable(timestamp, packet)));
  new DataView(body.buffer).setBigUint64(64, timestamp);
  body.set(packet, 72);
  return body;
}

Deno.test("_signable() and Ed25519 match BEP 44's mutable-item test vector", () => {
  // bittorrent.org BEP 44, test vector 1 (no salt): seq 1, v "Hello World!".
  const publicKey = hex("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548");
  const signature = hex(
    "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff" +
      "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
  );
  const value = new TextEncoder().encode("Hello World!");
  const signable = _signable(1n, value);
  assert.equal(new TextDecoder().decode(signable), "3:seqi1e1:v12:Hello World!");
  assert.ok(ed25519.verify(signature, signable, publicKey));
  // As a pkarr body the signature passes; only the DNS packet ("Hello World!") fails.
  const body = new Uint8Array([...signature, 0, 0, 0, 0, 0, 0, 0, 1, ...value]);
  assert.throws(
    () => verifySignedPacket(new EndpointId(publicKey), body),
    (e) => e instanceof SignedPacketError && /malformed DNS packet/.test(e.message),
  );
});

Deno.test("signRecord() writes iroh's DNS packet for iroh's test record", async () => {
  assert.equal(endpointIdToZ32(IROH_KEY.endpointId), IROH_Z32);
  const body = signRecord(IROH_KEY, {
    relayUrls: ["https://example.com"],
    addrs: [{ hostname: "127.0.0.1", port: 1234 }],
    userData: "foobar",
    timestampMicros: TIMESTAMP,
  });
  assert.deepEqual(body.subarray(72), IROH_PACKET);
  assert.equal(toHex(body.subarray(64, 72)), "000624c03887ab40");
  // Ed25519 is deterministic: the platform's own implementation (WebCrypto) must
  // produce the same signature over the BEP 44 form.
  const b64url = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const webKey = await crypto.subtle.importKey(
    "jwk",
    {
      kty: "OKP",
      crv: "Ed25519",
      d: b64url(IROH_KEY.seed()),
      x: b64url(IROH_KEY.endpointId.bytes),
    },
    "Ed25519",
    false,
    ["sign"],
  );
  const expected = await crypto.subtle.sign(
    "Ed25519",
    webKey,
    _signable(TIMESTAMP, IROH_PACKET).slice(),
  );
  assert.equal(toHex(body.subarray(0, 64)), toHex(new Uint8Array(expected)));
  assert.equal(
    toHex(body.subarray(0, 64)),
    "09144020507fb321403475566711399e7302503076b7294ca78c3d0e75b44328" +
      "d94af98ad446e5e522a02370e0faca26135080b51512df3e5a902bae9aa59e02",
  );
});

Deno.test("verifySignedPacket() reads back what signRecord() wrote", () => {
  const key = SecretKey.generate();
  const record: PkarrRecord = {
    relayUrls: ["https://relay.example/", "http://127.0.0.1:3340/"],
    addrs: [
      { hostname: "192.0.2.1", port: 4433 },
      { hostname: "2001:db8::1", port: 1 },
      { hostname: "::ffff:198.51.100.7", port: 65535 },
    ],
    userData: "é".repeat(122),
    timestampMicros: (1n << 64n) - 1n,
  };
  const body = signRecord(key, record);
  assert.deepEqual(verifySignedPacket(key.endpointId, body), {
    ...record,
    addrs: [record.addrs[0], record.addrs[1], { hostname: "198.51.100.7", port: 65535 }],
  });
  const empty = { relayUrls: [], addrs: [], timestampMicros: 0n };
  assert.deepEqual(verifySignedPacket(key.endpointId, signRecord(key, empty)), empty);
  assert.deepEqual(_openSignedPacket(key.endpointId, body).ttlSeconds, 30);
  assert.equal(_openSignedPacket(key.endpointId, signRecord(key, empty)).ttlSeconds, undefined);
});

Deno.test("verifySignedPacket() refuses another key, a changed timestamp and wrong sizes", () => {
  const key = SecretKey.generate();
  const body = signRecord(key, {
    relayUrls: ["https://relay.example/"],
    addrs: [],
    timestampMicros: 7n,
  });
  const other = SecretKey.generate().endpointId;
  assert.throws(
    () => verifySignedPacket(other, body),
    (e) => e instanceof SignedPacketError && e.message.includes(`not signed by ${other}`),
  );
  const later = body.slice();
  later[71] = 8;
  assert.throws(() => verifySignedPacket(key.endpointId, later), /not signed by/);
  assert.throws(
    () => verifySignedPacket(key.endpointId, body.subarray(0, 71)),
    /shorter than its 72-byte header/,
  );
  const huge = new Uint8Array(MAX_SIGNED_PACKET_BODY + 1);
  assert.throws(
    () => verifySignedPacket(key.endpointId, huge),
    /1073 bytes exceeds the limit of 1072/,
  );
});

Deno.test("verifySignedPacket() refuses a small-order key whose signature verifies loosely", () => {
  // The identity point as key and as R, with S = 0: [0]B = R + [k]A holds for any
  // message, so lenient verifiers accept it; iroh's verify_strict does not.
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const body = new Uint8Array([
    ...identity,
    ...new Uint8Array(32),
    ...new Uint8Array(8),
    ...IROH_PACKET,
  ]);
  assert.throws(() => verifySignedPacket(new EndpointId(identity), body), /not signed by/);
});

Deno.test("verifySignedPacket() skips what iroh skips: other names, unknown keys, bad values", () => {
  const key = SecretKey.generate();
  const name = `_iroh.${endpointIdToZ32(key.endpointId)}`;
  const record = (recordName: string, ...strings: string[]) => ({
    name: recordName,
    type: DNS_TYPE_TXT,
    class: DNS_CLASS_IN,
    ttl: 60,
    data: encodeTxtData(strings),
  });
  const packet = encodeDnsResponse([
    record(name, "relay=not a url"),
    record(name, "relay=https://", "relay.example"), // strings concatenate, as in iroh
    record(`_other.${endpointIdToZ32(key.endpointId)}`, "relay=https://other.example/"),
    record(`_iroh.${endpointIdToZ32(SecretKey.generate().endpointId)}`, "addr=192.0.2.9:1"),
    record(name, "addr=192.0.2.1"),
    record(name, "addr=[192.0.2.1]:80"),
    record(name, "addr=192.0.2.1:0"),
    record(name, "addr=192.0.2.1:65536"),
    record(name, "addr=example.com:80"),
    record(name, "addr=[2001:db8::2]:80"),
    record(name, "addr=[2001:db8:0::2]:80"), // the same address again
    record(name, "colour=blue"),
    record(name, "no equals sign"),
    record(name, `user-data=${"x".repeat(200)}`, "x".repeat(46)), // 246 bytes: over the limit
    record(name, "user-data=a=b"),
    record(name, "user-data=second"),
    { ...record(name, "x"), data: Uint8Array.of(2, 0xff, 0xfe) }, // not UTF-8
    { ...record(name.toUpperCase(), "addr=192.0.2.3:3"), ttl: 5 },
  ]);
  const opened = _openSignedPacket(key.endpointId, signPacket(key, 1n, packet));
  assert.deepEqual(opened.record, {
    relayUrls: ["https://relay.example/"],
    addrs: [{ hostname: "2001:db8::2", port: 80 }, { hostname: "192.0.2.3", port: 3 }],
    userData: "a=b",
    timestampMicros: 1n,
  });
  assert.equal(opened.ttlSeconds, 5);
});

Deno.test("signRecord() refuses bad input with TypeError or RangeError", () => {
  const key = SecretKey.generate();
  const ok: PkarrRecord = { relayUrls: [], addrs: [], timestampMicros: 1n };
  assert.throws(() => signRecord(key, { ...ok, relayUrls: ["not a url"] }), TypeError);
  assert.throws(
    () => signRecord(key, { ...ok, addrs: [{ hostname: "example.com", port: 1 }] }),
    TypeError,
  );
  assert.throws(
    () => signRecord(key, { ...ok, addrs: [{ hostname: "192.0.2.1", port: 0 }] }),
    RangeError,
  );
  assert.throws(
    () => signRecord(key, { ...ok, userData: "x".repeat(246) }),
    /246 bytes exceeds the limit of 245/,
  );
  assert.throws(() => signRecord(key, { ...ok, timestampMicros: -1n }), RangeError);
  assert.throws(() => signRecord(key, { ...ok, timestampMicros: 1n << 64n }), RangeError);
  const many = Array.from({ length: 40 }, (_, i) => ({ hostname: `192.0.2.${i}`, port: 4433 }));
  assert.throws(() => signRecord(key, { ...ok, addrs: many }), /limit of 1000 bytes/);
  assert.equal(signRecord(key, { ...ok, userData: "x".repeat(245) }).length > 72, true);
});

/** Any outcome but an error other than SignedPacketError. */
function verifyOrCodecError(endpointId: EndpointId, body: Uint8Array): void {
  try {
    verifySignedPacket(endpointId, body);
  } catch (error) {
    if (!(error instanceof SignedPacketError)) throw error;
  }
}

Deno.test("verifySignedPacket() survives truncation, bit flips and random bytes", () => {
  const key = SecretKey.generate();
  const body = signRecord(key, {
    relayUrls: ["https://relay.example/"],
    addrs: [{ hostname: "2001:db8::1", port: 4433 }],
    userData: "hello",
    timestampMicros: 42n,
  });
  for (let length = 0; length < body.length; length++) {
    assert.throws(
      () => verifySignedPacket(key.endpointId, body.subarray(0, length)),
      SignedPacketError,
    );
  }
  const packet = body.subarray(72);
  for (let bit = 0; bit < body.length * 8; bit++) {
    const flipped = body.slice();
    flipped[bit >> 3] ^= 1 << (bit & 7);
    assert.throws(() => verifySignedPacket(key.endpointId, flipped), SignedPacketError);
    // The same flip inside a packet that is signed anyway reaches the DNS reader.
    if (bit >= 72 * 8) {
      const changed = packet.slice();
      changed[(bit >> 3) - 72] ^= 1 << (bit & 7);
      verifyOrCodecError(key.endpointId, signPacket(key, 42n, changed));
    }
  }
  for (let i = 0; i < 300; i++) {
    const random = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 200)));
    verifyOrCodecError(key.endpointId, random);
    verifyOrCodecError(key.endpointId, signPacket(key, 1n, random));
  }
});

Deno.test("txt() vectors are what signRecord() writes for one attribute", () => {
  const body = signRecord(IROH_KEY, {
    relayUrls: ["https://example.com/"],
    addrs: [],
    timestampMicros: 1n,
  });
  assert.deepEqual(
    body.subarray(72),
    encodeDnsResponse([txt("relay=https://example.com/")]),
  );
  assert.deepEqual(body.subarray(72, 84), bytesOf("0000 8000 0000 0001 0000 0000"));
});
