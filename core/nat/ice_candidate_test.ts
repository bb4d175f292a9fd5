import assert from "node:assert/strict";
import {
  formatCandidate,
  type IceCandidate,
  parseCandidate,
  validateCredentials,
} from "./ice_candidate.ts";

const HOST: IceCandidate = {
  foundation: "a1b2",
  component: 1,
  transport: "udp",
  priority: 2130706431,
  address: "192.0.2.7",
  port: 50000,
  type: "host",
};
const SRFLX: IceCandidate = {
  ...HOST,
  priority: 1694498815,
  address: "203.0.113.9",
  port: 40000,
  type: "srflx",
  relatedAddress: "192.0.2.7",
  relatedPort: 50000,
};

Deno.test("formatCandidate() writes the SDP candidate attribute value", () => {
  assert.equal(formatCandidate(HOST), "a1b2 1 udp 2130706431 192.0.2.7 50000 typ host");
  assert.equal(
    formatCandidate(SRFLX),
    "a1b2 1 udp 1694498815 203.0.113.9 40000 typ srflx raddr 192.0.2.7 rport 50000",
  );
});

Deno.test("parseCandidate() round-trips and accepts the SDP prefix and unknown extensions", () => {
  for (const candidate of [HOST, SRFLX, { ...HOST, address: "2001:db8::7" }]) {
    assert.deepEqual(parseCandidate(formatCandidate(candidate)), candidate);
  }
  assert.deepEqual(
    parseCandidate(
      "a=candidate:a1b2 1 UDP 2130706431 192.0.2.7 50000 typ host generation 0 ufrag ab12",
    ),
    HOST,
  );
});

Deno.test("the mapping extension: written, read back, an unknown value skipped, a bad one refused", () => {
  const tagged: IceCandidate = { ...SRFLX, mapping: "dependent" };
  assert.equal(
    formatCandidate(tagged),
    "a1b2 1 udp 1694498815 203.0.113.9 40000 typ srflx raddr 192.0.2.7 rport 50000 mapping dependent",
  );
  assert.deepEqual(parseCandidate(formatCandidate(tagged)), tagged);
  assert.deepEqual(parseCandidate(`${formatCandidate(SRFLX)} mapping sideways`), SRFLX);
  assert.throws(
    () => formatCandidate({ ...SRFLX, mapping: "sideways" as "dependent" }),
    /unknown mapping behaviour/,
  );
});

Deno.test("parseCandidate() rejects what werift must never see", () => {
  for (
    const text of [
      "a1b2 1 udp 2130706431 peer.local 50000 typ host", // mDNS name: would trigger multicast
      "a1b2 1 tcp 2130706431 192.0.2.7 50000 typ host tcptype passive",
      "a1b2 2 udp 2130706431 192.0.2.7 50000 typ host",
      "a1b2 1 udp 2130706431 192.0.2.7 0 typ host",
      "a1b2 1 udp 2130706431 192.0.2.7 70000 typ host",
      "a1b2 1 udp 2130706431 192.0.2.7 50000 typ bogus",
      "a1b2 1 udp -5 192.0.2.7 50000 typ host",
      "a1b2 1 udp 2130706431 192.0.2.7 50000 host",
      "",
    ]
  ) {
    assert.throws(() => parseCandidate(text), TypeError, text);
  }
});

Deno.test("validateCredentials() enforces RFC 8445 lengths and ICE characters", () => {
  validateCredentials({ ufrag: "ab12", pwd: "0123456789abcdef012345" });
  assert.throws(
    () => validateCredentials({ ufrag: "ab1", pwd: "0123456789abcdef012345" }),
    TypeError,
  );
  assert.throws(() => validateCredentials({ ufrag: "ab12", pwd: "short" }), TypeError);
  assert.throws(
    () => validateCredentials({ ufrag: "ab:12", pwd: "0123456789abcdef012345" }),
    TypeError,
  );
});

Deno.test("the portmap extension: written, read back, an unknown value skipped, a bad one refused", () => {
  const mapped: IceCandidate = { ...SRFLX, portMap: "nat-pmp" };
  const text = formatCandidate(mapped);
  assert.equal(
    text,
    "a1b2 1 udp 1694498815 203.0.113.9 40000 typ srflx raddr 192.0.2.7 rport 50000 portmap nat-pmp",
  );
  assert.deepEqual(parseCandidate(text), mapped);
  assert.deepEqual(parseCandidate(`${formatCandidate(SRFLX)} portmap carrier-pigeon`), SRFLX);
  assert.throws(() => formatCandidate({ ...SRFLX, portMap: "smtp" as "pcp" }), TypeError);
  assert.throws(
    () => formatCandidate({ ...SRFLX, type: "host", portMap: "pcp" }),
    /port mapping is an srflx candidate/,
  );
});
