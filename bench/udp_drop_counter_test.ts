import assert from "node:assert/strict";
import { parseUdpRcvbufErrors, readUdpRcvbufErrors } from "./udp_drop_counter.ts";

const SNMP = `Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 4061 0 371 3987 371 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 9 0 0 0 0
`;

Deno.test("parseUdpRcvbufErrors() reads the Udp line, not UdpLite's", () => {
  assert.equal(parseUdpRcvbufErrors(SNMP), 371);
});

Deno.test("parseUdpRcvbufErrors() names what is missing", () => {
  assert.throws(() => parseUdpRcvbufErrors("Ip: a\nIp: 1\n"), /no Udp lines/);
  assert.throws(() => parseUdpRcvbufErrors("Udp: InErrors\nUdp: 3\n"), /no RcvbufErrors/);
});

Deno.test("readUdpRcvbufErrors() reads the namespace's own file and reports a failed read", async () => {
  const seen: string[][] = [];
  const exec = (_host: { readonly ns: string }, cmd: string[]) => {
    seen.push(cmd);
    return Promise.resolve({ code: 0, stdout: SNMP, stderr: "" });
  };
  assert.equal(await readUdpRcvbufErrors(exec, { ns: "x" }), 371);
  assert.deepEqual(seen, [["cat", "/proc/net/snmp"]]);
  const failing = () => Promise.resolve({ code: 1, stdout: "", stderr: "no such netns\n" });
  await assert.rejects(readUdpRcvbufErrors(failing, { ns: "x" }), /no such netns/);
});
