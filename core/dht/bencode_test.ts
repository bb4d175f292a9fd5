import assert from "node:assert/strict";
import {
  BencodeError,
  type BencodeValue,
  decodeBencode,
  DEFAULT_BENCODE_LIMITS,
  encodeBencode,
} from "./bencode.ts";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("bencode: the four kinds round-trip with canonical bytes", () => {
  const value: BencodeValue = new Map<string, BencodeValue>([
    ["z", [1n, -5n, 0n, bytes("")]],
    ["a", bytes("spam")],
    ["m", new Map([["k", 9_007_199_254_740_993n]])],
  ]);
  const encoded = encodeBencode(value);
  assert.equal(text(encoded), "d1:a4:spam1:md1:ki9007199254740993ee1:zli1ei-5ei0e0:ee");
  assert.deepEqual(decodeBencode(encoded), value);
});

Deno.test("bencode: keys sort by byte, binary keys survive", () => {
  const value = new Map<string, BencodeValue>([["\xff", 1n], ["\x00", 2n], ["a", 3n]]);
  const encoded = encodeBencode(value);
  assert.deepEqual([...encoded.subarray(0, 4)], [0x64, 0x31, 0x3a, 0x00]);
  assert.deepEqual(decodeBencode(encoded), value);
  assert.throws(() => encodeBencode(new Map([["\u0100", 1n]])), BencodeError);
});

Deno.test("bencode: non-canonical and malformed input is refused with BencodeError", () => {
  for (
    const input of [
      "",
      "i01e",
      "i-0e",
      "i+1e",
      "ie",
      "i1",
      "03:abc",
      "4:abc",
      "-1:a",
      "l",
      "d1:ai1e",
      "d1:bi1e1:ai2ee", // unsorted
      "d1:ai1e1:ai2ee", // repeated
      "di1ei2ee", // integer key
      "i1ei2e", // trailing value
      "3:abcX", // trailing byte
      "x",
      "i99999999999999999999999e", // longer than any i64
      "99999999999:a",
    ]
  ) {
    assert.throws(() => decodeBencode(bytes(input)), BencodeError, input);
  }
});

Deno.test("bencode: the limits on size, depth and item count hold", () => {
  const limits = { maxBytes: 64, maxDepth: 3, maxItems: 5 };
  assert.throws(
    () => decodeBencode(new Uint8Array(65).fill(0x30), limits),
    /exceeds the limit of 64/,
  );
  assert.deepEqual(decodeBencode(bytes("llleee"), limits), [[[]]]);
  assert.throws(() => decodeBencode(bytes("lllleeee"), limits), /nesting deeper than 3/);
  assert.deepEqual(decodeBencode(bytes("li1ei2ei3ei4ee"), limits), [1n, 2n, 3n, 4n]);
  assert.throws(() => decodeBencode(bytes("li1ei2ei3ei4ei5ee"), limits), /more than 5 values/);
  // The defaults stop a deep nest long before the stack does.
  const deep = "l".repeat(1000) + "e".repeat(1000);
  assert.throws(() => decodeBencode(bytes(deep)), /nesting deeper than 16/);
  assert.throws(
    () => decodeBencode(bytes(deep), { ...DEFAULT_BENCODE_LIMITS, maxBytes: 1e6 }),
    BencodeError,
  );
});

Deno.test("bencode fuzz: random and mutated inputs give a value or BencodeError, fast", () => {
  const seeds = [
    "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
    "d1:rd2:id20:abcdefghij01234567895:nodes26:abcdefghij0123456789\x7f\x00\x00\x01\x1a\xe1e1:t2:aa1:y1:re",
    "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
    "li-1ei0ei1ed1:ali1eeee",
  ].map(bytes);
  let state = 0x2545f491;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const started = performance.now();
  let decoded = 0;
  for (let round = 0; round < 20_000; round++) {
    let input: Uint8Array;
    if (round % 4 === 0) {
      input = new Uint8Array(Math.floor(random() * 64)).map(() => random() * 256);
    } else {
      input = Uint8Array.from(seeds[round % seeds.length]);
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) {
        const at = Math.floor(random() * input.length);
        const pick = random();
        if (pick < 0.5) input[at] = random() * 256;
        else if (pick < 0.75) input = input.subarray(0, at);
        else {input = Uint8Array.from([
            ...input.subarray(0, at),
            ...bytes("lde:i0123"),
            ...input.subarray(at),
          ]);}
      }
    }
    try {
      const value = decodeBencode(input);
      decoded++;
      // What decodes is canonical: it re-encodes to the same bytes.
      assert.deepEqual(encodeBencode(value), input);
    } catch (error) {
      if (!(error instanceof BencodeError)) throw error;
    }
  }
  assert.ok(decoded > 0, "some mutations still decode");
  assert.ok(performance.now() - started < 5000, "20,000 inputs in under 5 s");
});
