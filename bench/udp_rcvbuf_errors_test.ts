import { strictEqual, throws } from "node:assert/strict";
import { parseRcvbufErrors } from "./udp_rcvbuf_errors.ts";

const SNMP = [
  "Tcp: RtoAlgorithm RtoMin",
  "Tcp: 1 200",
  "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors",
  "Udp: 34400207 2215 929328 25754772 929327 0",
  "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors",
  "UdpLite: 0 0 0 0 5 0",
].join("\n");

Deno.test("parseRcvbufErrors() reads the Udp field by name, not UdpLite's", () => {
  strictEqual(parseRcvbufErrors(SNMP), 929327);
});

Deno.test("parseRcvbufErrors() says what is missing", () => {
  throws(() => parseRcvbufErrors("Tcp: a\nTcp: 1"), /no Udp lines/);
  throws(() => parseRcvbufErrors("Udp: InDatagrams\nUdp: 1"), /no such field/);
  throws(() => parseRcvbufErrors("Udp: RcvbufErrors\nUdp: x"), /x is not a count/);
});
