import assert from "node:assert/strict";
import {
  AuthStatus,
  decodeDatagram,
  encodeDatagram,
  encodeMessage,
  encodeUdpPacketFrame,
  encodeWireGuardFrames,
  FrameDecoder,
  MAX_UDP_PAYLOAD,
  type Message,
  ProtocolError,
} from "./messages.ts";

const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const text = (s: string) => new TextEncoder().encode(s);

const SAMPLES: Message[] = [
  { type: "auth-request", credential: text("iAbcdefghijklmnopq") },
  { type: "auth-response", status: AuthStatus.Ok, reason: "" },
  { type: "auth-response", status: AuthStatus.ServerFull, reason: "full" },
  { type: "source-request", source: "tcp://127.0.0.1:22" },
  { type: "source-response", accepted: false, reason: "not allowed" },
  { type: "tcp-open", pipeId: 7 },
  { type: "udp-packet", flowId: 0xdeadbeef, payload: Uint8Array.of(1, 2, 3) },
  { type: "tcp-result", connected: false, reason: "refused" },
  { type: "tcp-result", connected: true, reason: "" },
  { type: "path-hello", kind: "relay", label: "http://relay/" },
  { type: "path-ping", nonce: 0x01020304 },
  { type: "path-pong", nonce: 0xffffffff },
  { type: "path-offer", body: text("a ufrag and candidates") },
  { type: "path-answer", body: Uint8Array.of(9) },
  { type: "path-join", secret: new Uint8Array(32).fill(5) },
  { type: "path-hello", kind: "direct", label: "" },
  { type: "vpn-hello", publicKey: new Uint8Array(32).fill(7) },
  {
    type: "vpn-config",
    config: {
      serverPublicKey: new Uint8Array(32).fill(1),
      presharedKey: new Uint8Array(32).fill(2),
      clientAddress: Uint8Array.of(10, 0, 0, 2),
      prefixLength: 24,
      serverAddress: Uint8Array.of(10, 0, 0, 1),
      mtu: 1420,
    },
  },
  { type: "wireguard-message", message: Uint8Array.of(4, 0, 0, 0) },
  { type: "tcp-stripe", pipeId: 0xffffffff, index: 3 },
  { type: "auth-key-request", publicKey: new Uint8Array(32).fill(0x11) },
  { type: "auth-challenge", nonce: new Uint8Array(32).fill(0x22) },
  { type: "auth-key-proof", signature: new Uint8Array(64).fill(0x33) },
];

Deno.test("encodeMessage() matches golden bytes", () => {
  assert.equal(toHex(encodeMessage(SAMPLES[3])), "030012" + toHex(text("tcp://127.0.0.1:22")));
  assert.equal(toHex(encodeMessage(SAMPLES[2])), "020005" + "02" + toHex(text("full")));
  assert.equal(toHex(encodeMessage(SAMPLES[5])), "050004" + "00000007");
  assert.equal(toHex(encodeMessage(SAMPLES[6])), "060007deadbeef010203");
  assert.equal(toHex(encodeMessage(SAMPLES[7])), "070008" + "00" + toHex(text("refused")));
  assert.equal(toHex(encodeMessage(SAMPLES[8])), "07000101");
  assert.equal(toHex(encodeMessage(SAMPLES[9])), "08000e01" + toHex(text("http://relay/")));
  assert.equal(toHex(encodeMessage(SAMPLES[10])), "09000401020304");
  assert.equal(toHex(encodeMessage(SAMPLES[15])), "08000100");
  assert.equal(
    toHex(encodeMessage(SAMPLES[17])),
    "0f004b" + "01".repeat(32) + "02".repeat(32) + "0a000002" + "18" + "0a000001" + "058c",
  );
  assert.equal(toHex(encodeMessage(SAMPLES[18])), "10000404000000");
  assert.equal(toHex(encodeMessage(SAMPLES[19])), "110005" + "ffffffff03");
});

Deno.test("FrameDecoder rejects malformed VPN messages", () => {
  const config = [...encodeMessage(SAMPLES[17])];
  const withByte = (index: number, value: number) => {
    const copy = config.slice();
    copy[index] = value;
    return copy;
  };
  for (
    const bytes of [
      [0x0e, 0x00, 0x01, 7], // short key
      [0x0f, 0x00, 0x02, 1, 2], // short config
      withByte(3 + 68, 31), // prefix too long for a client and a server
      withByte(3 + 73, 0), // MTU below 576
      [0x10, 0x00, 0x00], // empty WireGuard message
      [0x10, 0x23, 0x59], // 9,049 bytes: over the largest message
    ]
  ) {
    assert.throws(() => new FrameDecoder().push(Uint8Array.from(bytes)), ProtocolError);
  }
  assert.throws(
    () =>
      encodeMessage({
        type: "vpn-config",
        config: {
          ...(SAMPLES[17] as Extract<Message, { type: "vpn-config" }>).config,
          clientAddress: new Uint8Array(16),
        },
      }),
    RangeError,
  );
});

Deno.test("FrameDecoder rejects malformed path messages", () => {
  for (
    const bytes of [
      [0x08, 0x00, 0x01, 0x02], // unknown path kind
      [0x08, 0x00, 0x00], // no kind at all
      [0x09, 0x00, 0x03, 1, 2, 3], // short nonce
      [0x0d, 0x00, 0x01, 7], // short join secret
      [0x0d, 0x00, 0x21, ...new Array(33).fill(0)], // over the join limit
      [0x0b, 0x10, 0x01], // an offer over 4 KiB
    ]
  ) {
    assert.throws(() => new FrameDecoder().push(Uint8Array.from(bytes)), ProtocolError);
  }
});

Deno.test("FrameDecoder rejects a tcp-result with an unknown status", () => {
  assert.throws(
    () => new FrameDecoder().push(Uint8Array.of(0x07, 0x00, 0x01, 0x02)),
    ProtocolError,
  );
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x07, 0x00, 0x00)), ProtocolError);
});

Deno.test("FrameDecoder round-trips every message, fed one byte at a time", () => {
  const stream = new Uint8Array(SAMPLES.flatMap((m) => [...encodeMessage(m)]));
  const decoder = new FrameDecoder();
  const out: Message[] = [];
  for (const byte of stream) out.push(...decoder.push(Uint8Array.of(byte)));
  assert.deepEqual(out, SAMPLES);
  assert.equal(decoder.hasPartialFrame, false);
});

Deno.test("FrameDecoder.pushOne() leaves the bytes after a header for the caller", () => {
  const decoder = new FrameDecoder();
  const bytes = new Uint8Array([...encodeMessage({ type: "tcp-open", pipeId: 7 }), 9, 8, 7]);
  assert.deepEqual(decoder.pushOne(bytes), { type: "tcp-open", pipeId: 7 });
  assert.deepEqual(decoder.takeRemainder(), Uint8Array.of(9, 8, 7));
});

Deno.test("FrameDecoder rejects unknown types and oversized lengths before buffering", () => {
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x7f)), ProtocolError);
  // An auth request claiming 60,000 bytes is refused from its header alone.
  assert.throws(
    () => new FrameDecoder().push(Uint8Array.of(0x01, 0xea, 0x60)),
    /exceeds the limit/,
  );
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x05, 0x00, 0x05, 0x00)), /exceeds/);
  assert.throws(
    () => new FrameDecoder().push(Uint8Array.of(0x05, 0x00, 0x01, 0x00)),
    /without its 4-byte pipe id/,
  );
});

Deno.test("FrameDecoder rejects malformed payloads with its own error", () => {
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x02, 0, 0)), /without status/);
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x02, 0, 1, 9)), /unknown auth status/);
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x04, 0, 1, 5)), /valid status/);
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x03, 0, 1, 0xff)), /UTF-8/);
  assert.throws(() => new FrameDecoder().push(Uint8Array.of(0x06, 0, 3, 1, 2, 3)), /flow id/);
});

Deno.test("client-key frames have golden bytes and exact lengths both ways", () => {
  assert.equal(toHex(encodeMessage(SAMPLES[20])), "120020" + "11".repeat(32));
  assert.equal(toHex(encodeMessage(SAMPLES[21])), "130020" + "22".repeat(32));
  assert.equal(toHex(encodeMessage(SAMPLES[22])), "140040" + "33".repeat(64));
  // A frame one byte short or long is refused by its reader (long: from its header alone).
  for (const [id, size] of [[0x12, 32], [0x13, 32], [0x14, 64]]) {
    const short = Uint8Array.of(id, 0, size - 1, ...new Uint8Array(size - 1));
    assert.throws(() => new FrameDecoder().push(short), /without its/);
    assert.throws(() => new FrameDecoder().push(Uint8Array.of(id, 0, size + 1)), /exceeds/);
  }
  // And never written.
  assert.throws(
    () => encodeMessage({ type: "auth-key-request", publicKey: new Uint8Array(31) }),
    RangeError,
  );
  assert.throws(
    () => encodeMessage({ type: "auth-key-proof", signature: new Uint8Array(65) }),
    RangeError,
  );
});

Deno.test("FrameDecoder survives random, truncated and bit-flipped input", () => {
  const valid = new Uint8Array(SAMPLES.flatMap((m) => [...encodeMessage(m)]));
  for (let i = 0; i < 5_000; i++) {
    let input: Uint8Array;
    if (i % 3 === 0) input = crypto.getRandomValues(new Uint8Array(1 + (i % 300)));
    else if (i % 3 === 1) input = valid.slice(0, i % valid.length);
    else {
      input = valid.slice();
      input[i % input.length] ^= 1 << (i % 8);
    }
    try {
      new FrameDecoder().push(input);
    } catch (error) {
      assert.ok(error instanceof ProtocolError, `unexpected ${error}`);
    }
  }
});

Deno.test("encodeMessage() refuses payloads over a type's limit", () => {
  assert.throws(
    () =>
      encodeMessage({
        type: "udp-packet",
        flowId: 1,
        payload: new Uint8Array(MAX_UDP_PAYLOAD + 1),
      }),
    RangeError,
  );
  assert.throws(
    () => encodeMessage({ type: "source-request", source: "x".repeat(301) }),
    RangeError,
  );
  const largest = encodeMessage({
    type: "udp-packet",
    flowId: 1,
    payload: new Uint8Array(MAX_UDP_PAYLOAD),
  });
  assert.equal(new FrameDecoder().push(largest).length, 1);
});

Deno.test("datagram codec round-trips and rejects runts", () => {
  const datagram = encodeDatagram(42, Uint8Array.of(5, 6));
  assert.equal(toHex(datagram), "0000002a0506");
  const { flowId, payload } = decodeDatagram(datagram);
  assert.equal(flowId, 42);
  assert.deepEqual(payload, Uint8Array.of(5, 6));
  assert.throws(() => decodeDatagram(Uint8Array.of(1, 2, 3)), ProtocolError);
});

Deno.test("encodeUdpPacketFrame() matches encodeMessage() for udp-packet", () => {
  const payload = crypto.getRandomValues(new Uint8Array(1_200));
  assert.deepEqual(
    encodeUdpPacketFrame(7, payload),
    encodeMessage({ type: "udp-packet", flowId: 7, payload }),
  );
  assert.throws(() => encodeUdpPacketFrame(1, new Uint8Array(MAX_UDP_PAYLOAD + 1)), RangeError);
});

Deno.test("encodeWireGuardFrames() matches encodeMessage() frame by frame", () => {
  const messages = [Uint8Array.of(4, 1, 2), new Uint8Array(1_452).fill(7)];
  const joined = encodeWireGuardFrames(messages);
  const one = messages.map((message) => encodeMessage({ type: "wireguard-message", message }));
  assert.deepEqual(joined, new Uint8Array([...one[0], ...one[1]]));
  assert.deepEqual(
    new FrameDecoder().push(joined),
    messages.map((message) => ({
      type: "wireguard-message",
      message,
    })),
  );
  assert.throws(() => encodeWireGuardFrames([new Uint8Array(0)]), RangeError);
  assert.throws(() => encodeWireGuardFrames([new Uint8Array(9_049)]), RangeError);
});
