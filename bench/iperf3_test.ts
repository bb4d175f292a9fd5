import { ok, strictEqual, throws } from "node:assert/strict";
import { parseIperf3Json } from "./iperf3.ts";

// The shape of `iperf3 -c -u -J` (3.12) with a lossy receiver, reduced to what is read.
function udpReport(packets: number, lost: number, seconds: number, bitsPerSecond: number) {
  const sum = {
    seconds,
    bits_per_second: bitsPerSecond,
    jitter_ms: 0.05,
    packets,
    lost_packets: lost,
    lost_percent: (lost / packets) * 100,
  };
  return { end: { sum: { ...sum, sender: true }, sum_received: { ...sum, sender: false } } };
}

Deno.test("parseIperf3Json() reads a UDP receiver's MB/s, loss, jitter and datagrams/s", () => {
  const result = parseIperf3Json(JSON.stringify(udpReport(1000, 25, 2, 4e8)), { udp: true });
  strictEqual(result.mbPerSec, 4e8 / 8 / 1e6);
  strictEqual(result.lostPercent, 2.5);
  strictEqual(result.jitterMs, 0.05);
  strictEqual(result.datagramsPerSec, (1000 - 25) / 2);
});

Deno.test("parseIperf3Json() prefers sum_received and leaves UDP figures out of TCP", () => {
  const report = { end: { sum: { bits_per_second: 1 }, sum_received: { bits_per_second: 8e6 } } };
  const result = parseIperf3Json(JSON.stringify(report), { udp: false });
  strictEqual(result.mbPerSec, 1);
  strictEqual(result.lostPercent, null);
  strictEqual(result.datagramsPerSec, null);
});

Deno.test("parseIperf3Json() falls back to end.sum of older iperf3", () => {
  const report = { end: { sum: { bits_per_second: 16e6 } } };
  strictEqual(parseIperf3Json(JSON.stringify(report), { udp: false }).mbPerSec, 2);
});

Deno.test("parseIperf3Json() reports iperf3's own error and missing sums", () => {
  throws(
    () => parseIperf3Json(JSON.stringify({ error: "unable to connect" }), { udp: false }),
    /Cannot run iperf3: unable to connect/,
  );
  throws(() => parseIperf3Json("{}", { udp: false }), /no end.sum_received/);
  throws(() => parseIperf3Json("", { udp: false, noJson: "timed out" }), /iperf3: timed out/);
});

Deno.test("parseIperf3Json() never crashes on truncated or bit-flipped reports", () => {
  const text = JSON.stringify(udpReport(500, 1, 1, 1e6));
  const bytes = new TextEncoder().encode(text);
  // Bounded: every truncation point and one flip per byte.
  for (let cut = 0; cut < text.length; cut++) {
    throws(() => parseIperf3Json(text.slice(0, cut), { udp: true }), /^Error: Cannot run iperf3/);
  }
  for (let i = 0; i < bytes.length; i++) {
    const flipped = bytes.slice();
    flipped[i] ^= 1 << (i % 8);
    try {
      const result = parseIperf3Json(new TextDecoder().decode(flipped), { udp: true });
      ok(Number.isFinite(result.mbPerSec));
    } catch (error) {
      ok((error as Error).message.startsWith("Cannot run iperf3"), String(error));
    }
  }
});

Deno.test("parseIperf3Json() refuses output far larger than any report", () => {
  throws(() => parseIperf3Json(" ".repeat(17 << 20), { udp: false }), /Cannot run iperf3/);
});
