import { deepStrictEqual, equal, notEqual, rejects } from "node:assert/strict";
import { payloadChunks, payloadDigest, receiveDigest, sendPayload } from "./tcp_payload.ts";

Deno.test("payloadDigest() does not depend on the chunk size", () => {
  const size = 1_000_003;
  equal(
    payloadDigest(size, { chunkSize: 4096 }).sha256,
    payloadDigest(size, { chunkSize: 65536 }).sha256,
  );
});

Deno.test("payloadDigest() differs by seed and matches SHA-256 of the bytes", async () => {
  notEqual(payloadDigest(4096, { seed: 1 }).sha256, payloadDigest(4096, { seed: 2 }).sha256);
  const bytes = new Uint8Array([...payloadChunks(4096)].flatMap((chunk) => [...chunk]));
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  equal(
    payloadDigest(4096).sha256,
    [...expected].map((b) => b.toString(16).padStart(2, "0")).join(""),
  );
});

Deno.test("payloadDigest() of zero bytes is SHA-256 of the empty string", () => {
  equal(
    payloadDigest(0).sha256,
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("sendPayload() and receiveDigest() agree over a short-writing pipe", async () => {
  const chunks: Uint8Array[] = [];
  // A writer that accepts at most 1000 bytes per call, like a busy socket.
  const writer = {
    write: (p: Uint8Array) => {
      chunks.push(p.slice(0, 1000));
      return Promise.resolve(Math.min(p.length, 1000));
    },
  };
  const sent = await sendPayload(writer, 123_457, { seed: 9 });
  let index = 0;
  const reader = {
    read: (p: Uint8Array) => {
      const chunk = chunks[index++];
      if (chunk === undefined) return Promise.resolve(null);
      p.set(chunk);
      return Promise.resolve(chunk.length);
    },
  };
  deepStrictEqual(await receiveDigest(reader), sent);
  deepStrictEqual(sent, payloadDigest(123_457, { seed: 9 }));
});

Deno.test("receiveDigest() rejects more than maxBytes", async () => {
  const reader = { read: (p: Uint8Array) => Promise.resolve(p.length) };
  await rejects(receiveDigest(reader, { maxBytes: 10, chunkSize: 8 }), RangeError);
});
