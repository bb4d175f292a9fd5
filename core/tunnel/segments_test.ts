import assert from "node:assert/strict";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  MAX_SEGMENT,
  MAX_STRIPES,
  SEGMENT_HEADER_BYTES,
} from "./segments.ts";
import { ProtocolError } from "./messages.ts";

Deno.test("encodeSegmentHeader() writes golden bytes", () => {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  encodeSegmentHeader(bytes, { next: 2, length: 0x0203 });
  assert.deepEqual([...bytes], [2, 0x00, 0x02, 0x03]);
  encodeSegmentHeader(bytes, { next: 0, length: MAX_SEGMENT });
  assert.deepEqual([...bytes], [0, 0x01, 0x00, 0x00]);
});

Deno.test("segment headers round-trip at the edges", () => {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  for (const next of [0, MAX_STRIPES - 1]) {
    for (const length of [1, 1460, MAX_SEGMENT]) {
      encodeSegmentHeader(bytes, { next, length });
      assert.deepEqual(decodeSegmentHeader(bytes), { next, length });
    }
  }
});

Deno.test("encodeSegmentHeader() refuses what a reader would refuse", () => {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  for (
    const header of [{ next: MAX_STRIPES, length: 1 }, { next: 0, length: 0 }, {
      next: 0,
      length: MAX_SEGMENT + 1,
    }, { next: -1, length: 1 }]
  ) {
    assert.throws(() => encodeSegmentHeader(bytes, header), RangeError);
  }
});

Deno.test("decodeSegmentHeader() never accepts an out-of-range header (all 2^16 first-two-byte patterns)", () => {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  let accepted = 0;
  for (let a = 0; a < 256; a++) {
    for (let b = 0; b < 256; b++) {
      bytes[0] = a;
      bytes[1] = b;
      bytes[2] = b ^ 0x5a;
      bytes[3] = a;
      try {
        const header = decodeSegmentHeader(bytes);
        assert.ok(header.next < MAX_STRIPES && header.length >= 1 && header.length <= MAX_SEGMENT);
        accepted++;
      } catch (error) {
        assert.ok(error instanceof ProtocolError, `${error}`);
      }
    }
  }
  // Valid: next 0-3 with the top length byte 0, or 1 with the rest 0 (none of these here).
  assert.ok(accepted > 0 && accepted < 256 * 256);
  assert.throws(() => decodeSegmentHeader(new Uint8Array(3)), ProtocolError);
});
