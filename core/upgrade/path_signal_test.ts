import assert from "node:assert/strict";
import type { RemoteIceParameters } from "../nat/mod.ts";
import {
  decodePathAnswer,
  decodePathOffer,
  encodePathAnswer,
  encodePathOffer,
  MAX_SIGNAL_CANDIDATES,
  PathSignalError,
} from "./path_signal.ts";

const ICE: RemoteIceParameters = {
  credentials: { ufrag: "abcd", pwd: "0123456789abcdefghijkl" },
  candidates: [
    {
      foundation: "1",
      component: 1,
      transport: "udp",
      priority: 2130706431,
      address: "192.168.1.20",
      port: 41641,
      type: "host",
    },
  ],
};
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("path signals round-trip: offer without secret, answer with one", () => {
  const offer = decodePathOffer(encodePathOffer({ ice: ICE }));
  assert.deepEqual(offer.ice.credentials, ICE.credentials);
  assert.equal(offer.ice.candidates[0].address, "192.168.1.20");
  assert.equal(offer.ice.candidates[0].port, 41641);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const answer = decodePathAnswer(encodePathAnswer({ ice: ICE, secret }));
  assert.deepEqual(answer.secret, secret);
  assert.throws(() => decodePathOffer(encodePathAnswer({ ice: ICE, secret })), /no secret/);
  assert.throws(() => decodePathAnswer(encodePathOffer({ ice: ICE })), /no secret/);
});

Deno.test("path signals: malformed bodies are refused with PathSignalError, never anything else", () => {
  const bad = [
    "",
    "tunnel-path 2\nufrag abcd\npwd 0123456789abcdefghijkl",
    "tunnel-path 1\nufrag abcd",
    "tunnel-path 1\nufrag ab\npwd 0123456789abcdefghijkl",
    "tunnel-path 1\nufrag abcd\nufrag abce\npwd 0123456789abcdefghijkl",
    "tunnel-path 1\nufrag abcd\npwd 0123456789abcdefghijkl\ncandidate nonsense",
    "tunnel-path 1\nufrag abcd\npwd 0123456789abcdefghijkl\nsecret %%%",
    "tunnel-path 1\nufrag abcd\npwd 0123456789abcdefghijkl\nsecret AAAA",
    "tunnel-path 1\nufrag abcd\npwd 0123456789abcdefghijkl\nshell rm -rf",
  ];
  for (const body of bad) {
    assert.throws(() => decodePathAnswer(text(body)), PathSignalError, body);
  }
  assert.throws(() => decodePathOffer(Uint8Array.of(0xff, 0xfe)), PathSignalError);
  const many = "tunnel-path 1\nufrag abcd\npwd 0123456789abcdefghijkl\n" +
    "candidate 1 1 udp 1 10.0.0.1 1 typ host\n".repeat(MAX_SIGNAL_CANDIDATES + 1);
  assert.throws(() => decodePathOffer(text(many)), PathSignalError);
  // Random bytes: only PathSignalError, whatever comes.
  for (let i = 0; i < 500; i++) {
    const body = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 200)));
    try {
      decodePathOffer(body);
    } catch (error) {
      assert.ok(error instanceof PathSignalError, String(error));
    }
  }
});

Deno.test("path signals carry each side's NAT mapping on its srflx candidates (old peers skip it)", () => {
  const srflx = {
    ...ICE.candidates[0],
    address: "203.0.113.5",
    port: 61_000,
    type: "srflx" as const,
    relatedAddress: "192.168.1.20",
    relatedPort: 41641,
    mapping: "dependent" as const,
  };
  const ice = { ...ICE, candidates: [...ICE.candidates, srflx] };
  const body = encodePathOffer({ ice });
  assert.match(new TextDecoder().decode(body), /typ srflx raddr \S+ rport 41641 mapping dependent/);
  assert.deepEqual(decodePathOffer(body).ice.candidates[1], srflx);
});
