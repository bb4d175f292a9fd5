import assert from "node:assert/strict";
import { SecretKey } from "../identity/mod.ts";
import {
  decodeRelayFrame,
  encodeRelayFrame,
  MAX_BATCH_PAYLOAD,
  MAX_DATAGRAM_PAYLOAD,
  MAX_FRAME_SIZE,
  MAX_PACKET_SIZE,
  RELAY_FRAME_SENDER,
  RELAY_SUBPROTOCOLS,
  relayDatagramInPlace,
  type RelayFrame,
  RelayFrameError,
  type RelayProtocolVersion,
  relayProtocolVersion,
  statusFrameFor,
  writeDatagramHeader,
} from "./frames.ts";

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const fromHex = (hex: string) => {
  const clean = hex.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
};
const text = (s: string) => new TextEncoder().encode(s);
const VERSIONS: RelayProtocolVersion[] = [1, 2];

// The key of iroh's snapshot tests: the secret key of 32 bytes of 42.
const KEY = new SecretKey(new Uint8Array(32).fill(42)).endpointId.bytes;
const KEY_HEX = "197f6b23e16c8532c6abc838facd5ea7 89be0c76b2920334039bfa8b3d368d61";
const HELLO = text("Hello World!");
const CE = 0b11;

Deno.test("the snapshot key is the one in iroh's tests", () => {
  assert.equal(toHex(KEY), toHex(fromHex(KEY_HEX)));
});

// Each frame with the bytes iroh's snapshot tests (iroh-relay/src/protos/relay.rs) expect.
const IROH_SNAPSHOTS: [RelayFrame, RelayProtocolVersion[], string][] = [
  [
    { type: "health", problem: "Hello? Yes this is dog." },
    [1],
    "0b 48 65 6c 6c 6f 3f 20 59 65 73 20 74 68 69 73 20 69 73 20 64 6f 67 2e",
  ],
  [{ type: "endpoint-gone", endpoint: KEY }, [1, 2], `08 ${KEY_HEX}`],
  [{ type: "ping", data: new Uint8Array(8).fill(42) }, [1, 2], "09 2a 2a 2a 2a 2a 2a 2a 2a"],
  [{ type: "pong", data: new Uint8Array(8).fill(42) }, [1, 2], "0a 2a 2a 2a 2a 2a 2a 2a 2a"],
  [
    { type: "relay-to-client-datagram", source: KEY, ecn: CE, payload: HELLO, segmentSize: 6 },
    [1, 2],
    `07 ${KEY_HEX} 03 00 06 48 65 6c 6c 6f 20 57 6f 72 6c 64 21`,
  ],
  [
    { type: "relay-to-client-datagram", source: KEY, ecn: CE, payload: HELLO },
    [1, 2],
    `06 ${KEY_HEX} 03 48 65 6c 6c 6f 20 57 6f 72 6c 64 21`,
  ],
  [
    { type: "restarting", reconnectInMs: 10, tryForMs: 20 },
    [1, 2],
    "0c 00 00 00 0a 00 00 00 14",
  ],
  [{ type: "status", status: "same-endpoint-elsewhere" }, [2], "0d 01"],
  [{ type: "status", status: "rate-limited" }, [2], "0d 02"],
  [
    { type: "client-to-relay-datagram", destination: KEY, ecn: CE, payload: HELLO, segmentSize: 6 },
    [1, 2],
    `05 ${KEY_HEX} 03 00 06 48 65 6c 6c 6f 20 57 6f 72 6c 64 21`,
  ],
  [
    { type: "client-to-relay-datagram", destination: KEY, ecn: CE, payload: HELLO },
    [1, 2],
    `04 ${KEY_HEX} 03 48 65 6c 6c 6f 20 57 6f 72 6c 64 21`,
  ],
];

Deno.test("encodeRelayFrame() reproduces iroh's snapshot bytes", () => {
  for (const [frame, versions, hex] of IROH_SNAPSHOTS) {
    for (const version of versions) {
      assert.equal(toHex(encodeRelayFrame(frame, version)), toHex(fromHex(hex)), frame.type);
    }
  }
});

Deno.test("decodeRelayFrame() reads iroh's snapshot bytes back", () => {
  for (const [frame, versions, hex] of IROH_SNAPSHOTS) {
    for (const version of versions) {
      assert.deepEqual(decodeRelayFrame(fromHex(hex), version), frame);
    }
  }
});

// Handshake frames have no snapshot in iroh: these bytes follow postcard's rules for
// iroh's structs ([u8; N] raw, serde_bytes and String with a LEB128 length, unit empty).
const CHALLENGE = Uint8Array.from({ length: 16 }, (_, i) => i);
const SIGNATURE = Uint8Array.from({ length: 64 }, (_, i) => 0xc0 + (i % 64));
const HANDSHAKE_GOLDEN: [RelayFrame, string][] = [
  [{ type: "server-challenge", challenge: CHALLENGE }, "00 000102030405060708090a0b0c0d0e0f"],
  [
    { type: "client-auth", publicKey: KEY, signature: SIGNATURE },
    `01 ${KEY_HEX} 40 ${toHex(SIGNATURE)}`,
  ],
  [{ type: "server-confirms-auth" }, "02"],
  [
    { type: "server-denies-auth", reason: "not authorized" },
    `03 0e ${toHex(text("not authorized"))}`,
  ],
  [{ type: "server-denies-auth", reason: "" }, "03 00"],
  [{ type: "server-denies-auth", reason: "x".repeat(200) }, `03 c8 01 ${"78".repeat(200)}`],
];

Deno.test("handshake frames are encoded as postcard encodes iroh's structs", () => {
  for (const [frame, hex] of HANDSHAKE_GOLDEN) {
    for (const version of VERSIONS) {
      assert.equal(toHex(encodeRelayFrame(frame, version)), toHex(fromHex(hex)));
      assert.deepEqual(decodeRelayFrame(fromHex(hex), version), frame);
    }
  }
});

/** One frame of every type, valid in `version`. */
function samplesFor(version: RelayProtocolVersion): RelayFrame[] {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const payload = crypto.getRandomValues(new Uint8Array(100));
  const samples: RelayFrame[] = [
    ...HANDSHAKE_GOLDEN.map(([frame]) => frame),
    { type: "server-denies-auth", reason: "zugriff verweigert: schlüssel unbekannt ✗" },
    { type: "client-to-relay-datagram", destination: key, ecn: 0, payload },
    { type: "client-to-relay-datagram", destination: key, ecn: 2, payload, segmentSize: 40 },
    { type: "relay-to-client-datagram", source: key, ecn: 1, payload: Uint8Array.of(7) },
    { type: "relay-to-client-datagram", source: key, ecn: 3, payload, segmentSize: 0xffff },
    { type: "endpoint-gone", endpoint: key },
    { type: "ping", data: crypto.getRandomValues(new Uint8Array(8)) },
    { type: "pong", data: crypto.getRandomValues(new Uint8Array(8)) },
    { type: "restarting", reconnectInMs: 0, tryForMs: 0xffff_ffff },
  ];
  if (version === 1) {
    samples.push({ type: "health", problem: "" }, { type: "health", problem: "\ufeffüberlastet" });
  } else {
    samples.push(
      { type: "status", status: "healthy" },
      { type: "status", status: "same-endpoint-elsewhere" },
      { type: "status", status: "rate-limited" },
      { type: "status", status: "unknown", code: 200 },
    );
  }
  return samples;
}

Deno.test("every frame type round-trips in the versions that allow it", () => {
  for (const version of VERSIONS) {
    const samples = samplesFor(version);
    const types = new Set(samples.map((frame) => frame.type));
    assert.equal(types.size, 11, `types covered in v${version}`);
    for (const frame of samples) {
      assert.deepEqual(decodeRelayFrame(encodeRelayFrame(frame, version), version), frame);
    }
  }
});

Deno.test("health is v1 only and status v2 only, both ways", () => {
  assert.throws(() => encodeRelayFrame({ type: "health", problem: "x" }, 2), RangeError);
  assert.throws(() => encodeRelayFrame({ type: "status", status: "healthy" }, 1), RangeError);
  assert.throws(() => decodeRelayFrame(fromHex("0b 78"), 2), RelayFrameError);
  assert.throws(() => decodeRelayFrame(fromHex("0d 00"), 1), RelayFrameError);
  assert.deepEqual(decodeRelayFrame(fromHex("0b 78"), 1), { type: "health", problem: "x" });
  assert.deepEqual(decodeRelayFrame(fromHex("0d 00"), 2), { type: "status", status: "healthy" });
});

Deno.test("statusFrameFor() sends status in v2 and health (or nothing) in v1, as iroh's relay", () => {
  assert.deepEqual(statusFrameFor("rate-limited", 2), { type: "status", status: "rate-limited" });
  assert.equal(statusFrameFor("rate-limited", 1), undefined);
  for (const status of ["healthy", "same-endpoint-elsewhere"] as const) {
    const frame = statusFrameFor(status, 1);
    assert.equal(frame?.type, "health");
    encodeRelayFrame(frame!, 1);
  }
});

Deno.test("relayProtocolVersion() picks the highest known subprotocol", () => {
  assert.deepEqual(RELAY_SUBPROTOCOLS, { 1: "iroh-relay-v1", 2: "iroh-relay-v2" });
  assert.equal(relayProtocolVersion("iroh-relay-v1"), 1);
  assert.equal(relayProtocolVersion(" iroh-relay-v2"), 2);
  assert.equal(relayProtocolVersion("iroh-relay-v3"), undefined);
  assert.equal(relayProtocolVersion("iroh-relay-v1, iroh-relay-v2"), 2);
  assert.equal(relayProtocolVersion("iroh-relay-v3,iroh-relay-v1"), 1);
  assert.equal(relayProtocolVersion(""), undefined);
});

Deno.test("RELAY_FRAME_SENDER names a sender for every frame type", () => {
  const types = new Set([...samplesFor(1), ...samplesFor(2)].map((frame) => frame.type));
  assert.deepEqual(new Set(Object.keys(RELAY_FRAME_SENDER)), types);
});

Deno.test("decodeRelayFrame() accepts what iroh's decoders accept", () => {
  const ping = fromHex("2a2a2a2a2a2a2a2a");
  // A non-minimal QUIC varint frame type (2 and 8 bytes).
  assert.deepEqual(decodeRelayFrame(fromHex(`40 09 ${toHex(ping)}`), 2), {
    type: "ping",
    data: ping,
  });
  assert.deepEqual(
    decodeRelayFrame(fromHex(`c0 00 00 00 00 00 00 0a ${toHex(ping)}`), 2),
    { type: "pong", data: ping },
  );
  // Only the two low bits of the ECN byte count; a segment size of 0 means one datagram.
  const batch = decodeRelayFrame(fromHex(`05 ${KEY_HEX} ff 00 00 01`), 1);
  assert.deepEqual(batch, {
    type: "client-to-relay-datagram",
    destination: KEY,
    ecn: 3,
    payload: Uint8Array.of(1),
  });
  assert.equal((decodeRelayFrame(fromHex(`06 ${KEY_HEX} 04 01`), 1) as { ecn: number }).ecn, 0);
  // An empty datagram decodes (iroh only refuses to send one).
  assert.equal(
    (decodeRelayFrame(fromHex(`04 ${KEY_HEX} 00`), 2) as { payload: Uint8Array }).payload.length,
    0,
  );
  // Postcard ignores bytes after a handshake frame's fields, and a non-minimal length.
  assert.equal(decodeRelayFrame(fromHex("02 ff ff"), 2).type, "server-confirms-auth");
  assert.deepEqual(decodeRelayFrame(fromHex(`00 ${toHex(CHALLENGE)} 99`), 2), {
    type: "server-challenge",
    challenge: CHALLENGE,
  });
  assert.deepEqual(decodeRelayFrame(fromHex("03 82 00 6e 6f ff"), 2), {
    type: "server-denies-auth",
    reason: "no",
  });
  assert.deepEqual(decodeRelayFrame(fromHex(`01 ${KEY_HEX} c0 00 ${toHex(SIGNATURE)} 00`), 1), {
    type: "client-auth",
    publicKey: KEY,
    signature: SIGNATURE,
  });
  // iroh reads one status byte and keeps unknown codes for newer relays.
  assert.deepEqual(decodeRelayFrame(fromHex("0d 01 00"), 2), {
    type: "status",
    status: "same-endpoint-elsewhere",
  });
  assert.deepEqual(decodeRelayFrame(fromHex("0d 03"), 2), {
    type: "status",
    status: "unknown",
    code: 3,
  });
});

Deno.test("decodeRelayFrame() returns views into the message, not copies", () => {
  const message = encodeRelayFrame(
    { type: "relay-to-client-datagram", source: KEY, ecn: 0, payload: HELLO },
    2,
  );
  const frame = decodeRelayFrame(message, 2) as { source: Uint8Array; payload: Uint8Array };
  assert.equal(frame.payload.buffer, message.buffer);
  assert.equal(frame.payload.byteOffset, 34);
  // A message that is itself a view decodes too.
  const padded = new Uint8Array(message.length + 5);
  padded.set(message, 3);
  assert.deepEqual(decodeRelayFrame(padded.subarray(3, 3 + message.length), 2), frame);
  const restarting = new Uint8Array(12);
  restarting.set(fromHex("0c 00 00 00 0a 00 00 00 14"), 3);
  assert.deepEqual(decodeRelayFrame(restarting.subarray(3), 1), {
    type: "restarting",
    reconnectInMs: 10,
    tryForMs: 20,
  });
});

Deno.test("decodeRelayFrame() rejects malformed frames with RelayFrameError", () => {
  const bad = [
    "", // no frame type
    "40", // a two-byte varint cut short
    "0e", // unknown types
    "3f",
    "40 0e",
    "c0 00 00 01 00 00 00 09", // 2^32 + 9 is not ping
    "00 0102", // short challenge
    `01 ${KEY_HEX}`, // client-auth without signature
    `01 ${KEY_HEX} 3f ${"00".repeat(63)}`, // 63-byte signature
    `01 ${KEY_HEX} 40 ${"00".repeat(63)}`, // truncated signature
    `01 ${KEY_HEX} ${"80".repeat(10)}`, // LEB128 running past 10 bytes
    "03", // no reason length
    "03 05 61", // reason longer than the body
    "03 01 ff", // reason not UTF-8
    `04 ${KEY_HEX}`, // no ECN byte
    `05 ${KEY_HEX} 00 06`, // no full segment size
    `07 ${"00".repeat(20)}`, // short key
    `08 ${KEY_HEX} 00`, // endpoint-gone with an extra byte
    "09 00 00 00 00 00 00 00", // 7-byte ping
    "0a 00 00 00 00 00 00 00 00 00", // 9-byte pong
    "0c 00 00 00 0a 00 00 00", // short restarting
  ];
  for (const hex of bad) {
    for (const version of VERSIONS) {
      assert.throws(() => decodeRelayFrame(fromHex(hex), version), RelayFrameError, hex);
    }
  }
  assert.throws(() => decodeRelayFrame(fromHex("0b c3 28"), 1), RelayFrameError); // health not UTF-8
  assert.throws(() => decodeRelayFrame(fromHex("0d"), 2), RelayFrameError); // status without code
});

Deno.test("decodeRelayFrame() enforces iroh's body limit after the handshake", () => {
  const fits = new Uint8Array(1 + MAX_PACKET_SIZE);
  fits[0] = 0x04;
  assert.equal(decodeRelayFrame(fits, 2).type, "client-to-relay-datagram");
  const over = new Uint8Array(2 + MAX_PACKET_SIZE);
  over[0] = 0x06;
  assert.throws(() => decodeRelayFrame(over, 2), /exceeds 65536/);
  over[0] = 0x0b;
  assert.throws(() => decodeRelayFrame(over, 1), RelayFrameError);
  // Handshake frames are bounded by the message limit only.
  const reason = "r".repeat(MAX_PACKET_SIZE * 2);
  const denial = encodeRelayFrame({ type: "server-denies-auth", reason }, 2);
  assert.deepEqual(decodeRelayFrame(denial, 2), { type: "server-denies-auth", reason });
});

Deno.test("decodeRelayFrame() refuses a message over 1 MiB before reading or copying it", () => {
  class Untouchable extends Uint8Array {
    override subarray(): Uint8Array<ArrayBuffer> {
      throw new Error("copied or sliced");
    }
    override slice(): Uint8Array<ArrayBuffer> {
      throw new Error("copied or sliced");
    }
  }
  const message = new Untouchable(MAX_FRAME_SIZE + 1);
  message[0] = 0x03;
  assert.throws(() => decodeRelayFrame(message, 2), (error) => {
    assert.ok(error instanceof RelayFrameError);
    assert.match(error.message, /1048577 bytes exceeds 1048576/);
    return true;
  });
});

Deno.test("encodeRelayFrame() enforces iroh's send limits", () => {
  const datagram = (payload: Uint8Array, segmentSize?: number): RelayFrame => ({
    type: "client-to-relay-datagram",
    destination: KEY,
    ecn: 0,
    payload,
    segmentSize,
  });
  // iroh refuses to send a frame over MAX_PACKET_SIZE, type byte included.
  assert.equal(
    encodeRelayFrame(datagram(new Uint8Array(MAX_DATAGRAM_PAYLOAD)), 2).length,
    MAX_PACKET_SIZE,
  );
  assert.throws(
    () => encodeRelayFrame(datagram(new Uint8Array(MAX_DATAGRAM_PAYLOAD + 1)), 2),
    RangeError,
  );
  assert.equal(
    encodeRelayFrame(datagram(new Uint8Array(MAX_BATCH_PAYLOAD), 1200), 2).length,
    MAX_PACKET_SIZE,
  );
  assert.throws(
    () => encodeRelayFrame(datagram(new Uint8Array(MAX_BATCH_PAYLOAD + 1), 1200), 2),
    RangeError,
  );
  assert.throws(
    () => encodeRelayFrame(datagram(new Uint8Array(64 * 1024 + 1)), 2),
    /exceeds the limit/,
  );
  assert.throws(() => encodeRelayFrame(datagram(new Uint8Array(0)), 2), /payload is empty/);
  assert.equal(
    encodeRelayFrame({ type: "health", problem: "h".repeat(MAX_PACKET_SIZE - 1) }, 1).length,
    MAX_PACKET_SIZE,
  );
  assert.throws(
    () => encodeRelayFrame({ type: "health", problem: "h".repeat(MAX_PACKET_SIZE) }, 1),
    RangeError,
  );
  // A denial may fill a whole message: type byte, 3-byte length, reason.
  const reason = "d".repeat(MAX_FRAME_SIZE - 4);
  assert.equal(encodeRelayFrame({ type: "server-denies-auth", reason }, 2).length, MAX_FRAME_SIZE);
  assert.throws(
    () => encodeRelayFrame({ type: "server-denies-auth", reason: reason + "d" }, 2),
    RangeError,
  );
  assert.throws(
    () =>
      encodeRelayFrame({ type: "server-denies-auth", reason: "€".repeat(MAX_FRAME_SIZE / 3) }, 2),
    RangeError,
  );
});

Deno.test("encodeRelayFrame() refuses fields of the wrong length or range", () => {
  const bad: [RelayFrame, RelayProtocolVersion][] = [
    [{ type: "server-challenge", challenge: new Uint8Array(15) }, 2],
    [{ type: "client-auth", publicKey: new Uint8Array(31), signature: SIGNATURE }, 2],
    [{ type: "client-auth", publicKey: KEY, signature: new Uint8Array(65) }, 2],
    [
      { type: "client-to-relay-datagram", destination: new Uint8Array(33), ecn: 0, payload: HELLO },
      2,
    ],
    [{ type: "client-to-relay-datagram", destination: KEY, ecn: 4, payload: HELLO }, 2],
    [{ type: "client-to-relay-datagram", destination: KEY, ecn: -1, payload: HELLO }, 2],
    [{ type: "relay-to-client-datagram", source: KEY, ecn: 0, payload: HELLO, segmentSize: 0 }, 2],
    [
      { type: "relay-to-client-datagram", source: KEY, ecn: 0, payload: HELLO, segmentSize: 65536 },
      2,
    ],
    [{ type: "relay-to-client-datagram", source: KEY, ecn: 0.5, payload: HELLO }, 2],
    [{ type: "endpoint-gone", endpoint: new Uint8Array(0) }, 2],
    [{ type: "ping", data: new Uint8Array(7) }, 2],
    [{ type: "pong", data: new Uint8Array(9) }, 2],
    [{ type: "restarting", reconnectInMs: -1, tryForMs: 0 }, 2],
    [{ type: "restarting", reconnectInMs: 0, tryForMs: 2 ** 32 }, 2],
    [{ type: "status", status: "unknown" }, 2],
    [{ type: "status", status: "unknown", code: 1 }, 2],
    [{ type: "status", status: "unknown", code: 256 }, 2],
    [{ type: "status", status: "sleepy" } as unknown as RelayFrame, 2],
    [{ type: "teleport" } as unknown as RelayFrame, 2],
    [{ type: "ping", data: new Uint8Array(8) }, 3 as RelayProtocolVersion],
  ];
  for (const [frame, version] of bad) {
    assert.throws(() => encodeRelayFrame(frame, version), RangeError, JSON.stringify(frame));
  }
});

Deno.test("decodeRelayFrame() throws only RelayFrameError on random, truncated and bit-flipped input", () => {
  const check = (input: Uint8Array) => {
    for (const version of VERSIONS) {
      try {
        decodeRelayFrame(input, version);
      } catch (error) {
        if (!(error instanceof RelayFrameError)) {
          throw new Error(`unexpected ${error} for ${toHex(input)} in v${version}`);
        }
      }
    }
  };
  // 2,000 random messages, half of them starting with a valid frame type.
  for (let i = 0; i < 2_000; i++) {
    const input = crypto.getRandomValues(new Uint8Array(i % 150));
    if (i % 2 === 0 && input.length > 0) input[0] = i % 14;
    check(input);
  }
  for (const version of VERSIONS) {
    for (const frame of samplesFor(version)) {
      const valid = encodeRelayFrame(frame, version);
      if (valid.length > 300) continue;
      for (let end = 0; end < valid.length; end++) check(valid.subarray(0, end));
      for (let bit = 0; bit < valid.length * 8; bit++) {
        const flipped = valid.slice();
        flipped[bit >> 3] ^= 1 << (bit & 7);
        check(flipped);
      }
    }
  }
});

Deno.test("writeDatagramHeader() writes the header encodeRelayFrame() writes, at any offset", () => {
  for (const type of ["client-to-relay-datagram", "relay-to-client-datagram"] as const) {
    for (const segmentSize of [undefined, 6]) {
      const out = new Uint8Array(3 + 36 + HELLO.length).fill(0xee);
      const start = writeDatagramHeader(out, 3, { type, key: KEY, ecn: CE, segmentSize });
      out.set(HELLO, start);
      const frame: RelayFrame = type === "client-to-relay-datagram"
        ? { type, destination: KEY, ecn: CE, payload: HELLO, segmentSize }
        : { type, source: KEY, ecn: CE, payload: HELLO, segmentSize };
      assert.equal(
        toHex(out.subarray(3, start + HELLO.length)),
        toHex(encodeRelayFrame(frame, 1)),
      );
      assert.deepEqual(out.subarray(0, 3), Uint8Array.of(0xee, 0xee, 0xee));
    }
  }
});

Deno.test("writeDatagramHeader() refuses bad fields and a header that does not fit", () => {
  const type = "client-to-relay-datagram";
  const out = new Uint8Array(64);
  assert.throws(
    () => writeDatagramHeader(out, 0, { type, key: new Uint8Array(31), ecn: 0 }),
    RangeError,
  );
  assert.throws(() => writeDatagramHeader(out, 0, { type, key: KEY, ecn: 4 }), RangeError);
  assert.throws(
    () => writeDatagramHeader(out, 0, { type, key: KEY, ecn: 0, segmentSize: 0 }),
    RangeError,
  );
  assert.throws(() => writeDatagramHeader(out, 31, { type, key: KEY, ecn: 0 }), RangeError);
  assert.throws(() => writeDatagramHeader(out, -1, { type, key: KEY, ecn: 0 }), RangeError);
});

Deno.test("relayDatagramInPlace() turns a client's datagram into what iroh's relay sends", () => {
  const source = new Uint8Array(32).fill(7);
  const cases: [string, RelayFrame][] = [
    [`04 ${KEY_HEX} 03 ${toHex(HELLO)}`, {
      type: "relay-to-client-datagram",
      source,
      ecn: CE,
      payload: HELLO,
    }],
    [`05 ${KEY_HEX} 03 00 06 ${toHex(HELLO)}`, {
      type: "relay-to-client-datagram",
      source,
      ecn: CE,
      payload: HELLO,
      segmentSize: 6,
    }],
    // Only the ECN codepoint survives, as iroh re-encodes it.
    [`04 ${KEY_HEX} fe ${toHex(HELLO)}`, {
      type: "relay-to-client-datagram",
      source,
      ecn: 2,
      payload: HELLO,
    }],
    // A frame type in a longer varint form than needed (2 and 8 bytes) comes out in the short one.
    [`40 04 ${KEY_HEX} 03 ${toHex(HELLO)}`, {
      type: "relay-to-client-datagram",
      source,
      ecn: CE,
      payload: HELLO,
    }],
    [`c0 00 00 00 00 00 00 05 ${KEY_HEX} 03 00 06 ${toHex(HELLO)}`, {
      type: "relay-to-client-datagram",
      source,
      ecn: CE,
      payload: HELLO,
      segmentSize: 6,
    }],
    // A batch with segment size 0 is one datagram to iroh, sent on as such.
    [`05 ${KEY_HEX} 01 00 00 ${toHex(HELLO)}`, {
      type: "relay-to-client-datagram",
      source,
      ecn: 1,
      payload: HELLO,
    }],
  ];
  for (const [hex, expected] of cases) {
    const message = fromHex(hex);
    const forwarded = relayDatagramInPlace(message, source);
    assert.equal(forwarded.buffer, message.buffer, hex);
    assert.equal(toHex(forwarded), toHex(encodeRelayFrame(expected, 2)), hex);
  }
  // An empty datagram (which encodeRelayFrame refuses to write) is forwarded as iroh does.
  assert.equal(
    toHex(relayDatagramInPlace(fromHex(`04 ${KEY_HEX} 00`), source)),
    toHex(fromHex(`06 ${toHex(source)} 00`)),
  );
});

Deno.test("relayDatagramInPlace() refuses anything but a client's datagram frame", () => {
  const source = new Uint8Array(32);
  for (
    const hex of [
      `06 ${KEY_HEX} 00 01`, // already relay-to-client
      `07 ${KEY_HEX} 00 00 01 01`,
      "09 00 00 00 00 00 00 00 00", // ping
      `04 ${KEY_HEX}`, // no ECN byte
      `05 ${KEY_HEX} 00 00`, // no full segment size
      `40 04 ${KEY_HEX}`, // no ECN byte after a two-byte frame type
      "40", // a varint cut short
      "",
    ]
  ) {
    assert.throws(() => relayDatagramInPlace(fromHex(hex), source), RangeError, hex);
  }
  assert.throws(
    () => relayDatagramInPlace(fromHex(`04 ${KEY_HEX} 00 01`), new Uint8Array(31)),
    RangeError,
  );
});

Deno.test("relayDatagramInPlace() forwards every datagram frame the decoder accepts, intact", () => {
  const source = new Uint8Array(32).fill(9);
  const prefixes = [[4], [5], [0x40, 4], [0x40, 5], [0x80, 0, 0, 5]];
  for (let i = 0; i < 2_000; i++) {
    const prefix = prefixes[i % prefixes.length];
    const message = crypto.getRandomValues(new Uint8Array(prefix.length + (i % 90)));
    message.set(prefix);
    if (i % 7 === 0 && message.length > prefix.length + 35) {
      message.fill(0, prefix.length + 33, prefix.length + 35); // segment size 0
    }
    let frame: RelayFrame;
    try {
      frame = decodeRelayFrame(message, 2);
    } catch (error) {
      assert.ok(error instanceof RelayFrameError);
      continue;
    }
    assert.equal(frame.type, "client-to-relay-datagram");
    if (frame.type !== "client-to-relay-datagram") continue;
    const expected = { ...frame, payload: frame.payload.slice() };
    const forwarded = decodeRelayFrame(relayDatagramInPlace(message, source), 2);
    const { destination: _, ...rest } = expected;
    assert.deepEqual(forwarded, { ...rest, type: "relay-to-client-datagram", source });
  }
});
