import assert from "node:assert/strict";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  ANSWER_LABEL,
  BlockError,
  decodeAnswer,
  decodeOffer,
  encodeAnswer,
  encodeOffer,
  manualCredential,
  type ManualOffer,
  newAnswerSecret,
  newOfferSecrets,
} from "./mod.ts";

function sampleOffer(): ManualOffer {
  return {
    ...newOfferSecrets(),
    source: "tcp://127.0.0.1:22",
    credentials: { ufrag: "Ab3d", pwd: "abcdefghijklmnopqrstuv+/" },
    candidates: [
      {
        foundation: "1",
        component: 1,
        transport: "udp",
        priority: 2130706431,
        address: "10.0.1.2",
        port: 50123,
        type: "host",
      },
      {
        foundation: "2",
        component: 1,
        transport: "udp",
        priority: 1694498815,
        address: "198.51.100.10",
        port: 50123,
        type: "srflx",
      },
      {
        foundation: "3",
        component: 1,
        transport: "udp",
        priority: 2130706175,
        address: "fd00::1",
        port: 50124,
        type: "host",
      },
    ],
  };
}

/** Re-armors arbitrary bytes the way a block is built, to craft hostile input. */
async function forge(label: string, version: number, body: Uint8Array) {
  const cs = new CompressionStream("deflate-raw");
  const compressed = new Uint8Array(
    await new Response(new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(cs))
      .arrayBuffer(),
  );
  const framed = new Uint8Array([0x54, 0x4e, version, ...compressed]);
  const bytes = new Uint8Array([...framed, ...sha256(framed).subarray(0, 4)]);
  let b64 = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    b64 += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `-----BEGIN ${label}-----\n${btoa(b64)}\n-----END ${label}-----`;
}

Deno.test("an offer round-trips and stays short enough to paste", async () => {
  const offer = sampleOffer();
  const text = await encodeOffer(offer);
  assert.match(
    text,
    /^-----BEGIN TUNNEL MANUAL OFFER-----\n[A-Za-z0-9+/=\n]+\n-----END TUNNEL MANUAL OFFER-----$/,
  );
  assert.ok(text.length < 400, `offer is ${text.length} characters`);
  assert.deepEqual(
    await decodeOffer(`some chat text\n> ${text.replaceAll("\n", "\n> ")}\nthanks`),
    offer,
  );
  assert.deepEqual(await decodeOffer(text.replaceAll("\n", "\r\n")), offer);
});

Deno.test("an answer round-trips and is bound to its offer", async () => {
  const offer = sampleOffer();
  const answer = {
    accepted: true as const,
    sessionId: offer.sessionId,
    serverKey: crypto.getRandomValues(new Uint8Array(32)),
    answerSecret: newAnswerSecret(),
    credentials: { ufrag: "Zz9y", pwd: "0123456789abcdefghijkl" },
    candidates: offer.candidates.slice(0, 1),
  };
  const text = await encodeAnswer(answer);
  assert.deepEqual(await decodeAnswer(text, offer), answer);
  await assert.rejects(() => decodeAnswer(text, sampleOffer()), /made for another offer/);
  const refused = await encodeAnswer({
    accepted: false,
    sessionId: offer.sessionId,
    reason: "10.0.0.1 is not allowed",
  });
  assert.deepEqual(await decodeAnswer(refused, offer), {
    accepted: false,
    sessionId: offer.sessionId,
    reason: "10.0.0.1 is not allowed",
  });
});

Deno.test("the credential needs both secrets", () => {
  const offer = newOfferSecrets();
  const secret = newAnswerSecret();
  const credential = manualCredential(offer, secret);
  assert.equal(credential.length, 32);
  assert.notDeepEqual(manualCredential(offer, newAnswerSecret()), credential);
  assert.notDeepEqual(
    manualCredential({ ...offer, offerSecret: newOfferSecrets().offerSecret }, secret),
    credential,
  );
});

Deno.test("truncated, altered and mislabelled blocks are refused with what went wrong", async () => {
  const text = await encodeOffer(sampleOffer());
  const lines = text.split("\n");
  await assert.rejects(
    () => decodeOffer(lines.slice(0, -1).join("\n")),
    /truncated: its END line is missing/,
  );
  await assert.rejects(
    () => decodeOffer([lines[0], lines[1].slice(0, 40), lines.at(-1)].join("\n")),
    BlockError,
  );
  await assert.rejects(() => decodeOffer("hello"), /No '-----BEGIN TUNNEL MANUAL OFFER-----' line/);
  await assert.rejects(
    () => decodeOffer(text.replaceAll("OFFER", "ANSWER")),
    /Expected a TUNNEL MANUAL OFFER block but got 'TUNNEL MANUAL ANSWER'/,
  );
  // Change one base64 character in the middle: the checksum catches it.
  const body = lines[1];
  const flipped = body.slice(0, 20) + (body[20] === "A" ? "B" : "A") + body.slice(21);
  await assert.rejects(
    () => decodeOffer([lines[0], flipped, ...lines.slice(2)].join("\n")),
    /checksum|damaged/,
  );
  await assert.rejects(() => decodeOffer(text.replace(/\n[A-Za-z]/, "\n!")), /not base64/);
});

Deno.test("every single-character change and every truncation fails cleanly", async () => {
  const text = await encodeOffer(sampleOffer());
  const start = text.indexOf("\n") + 1;
  const stop = text.lastIndexOf("\n");
  for (let i = start; i < stop; i++) {
    if (text[i] === "\n") continue;
    const changed = text.slice(0, i) + (text[i] === "x" ? "y" : "x") + text.slice(i + 1);
    await assert.rejects(() => decodeOffer(changed), BlockError);
  }
  for (let cut = 0; cut < text.length - 1; cut += 7) {
    await assert.rejects(() => decodeOffer(text.slice(0, cut)), BlockError);
  }
});

Deno.test("a block of another format version is refused naming both versions", async () => {
  const forged = await forge("TUNNEL MANUAL OFFER", 2, Uint8Array.of(1, 2, 3));
  await assert.rejects(
    () => decodeOffer(forged),
    /format version 2, but this tunnel reads version 1/,
  );
});

Deno.test("oversized text, deflate bombs and garbage bodies are refused", async () => {
  await assert.rejects(() => decodeOffer("x".repeat(20_000)), /too long/);
  const bomb = await forge("TUNNEL MANUAL OFFER", 1, new Uint8Array(1_000_000));
  assert.ok(bomb.length < 16_000, "a megabyte of zeros compresses into a small paste");
  await assert.rejects(() => decodeOffer(bomb), /larger than 8192 bytes/);
  for (let i = 0; i < 300; i++) {
    const garbage = await forge(
      i % 2 ? "TUNNEL MANUAL OFFER" : ANSWER_LABEL,
      1,
      crypto.getRandomValues(new Uint8Array(i)),
    );
    const attempt = i % 2 ? decodeOffer(garbage) : decodeAnswer(garbage, sampleOffer());
    await assert.rejects(() => attempt, BlockError);
  }
});
