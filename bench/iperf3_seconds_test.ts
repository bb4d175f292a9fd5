import { deepStrictEqual, throws } from "node:assert/strict";
import { receiverIntervals, summarizeSeconds } from "./iperf3_seconds.ts";

// `iperf3 -c -J --get-server-output` (3.12) against `iperf3 -s -J`, reduced to what is read.
function report(sums: { seconds: number; bytes: number }[]) {
  return { end: {}, server_output_json: { intervals: sums.map((sum) => ({ streams: [], sum })) } };
}

Deno.test("receiverIntervals() reads the server's per-interval sums", () => {
  const intervals = receiverIntervals(
    report([{ seconds: 1, bytes: 5 }, { seconds: 0.2, bytes: 1 }]),
  );
  deepStrictEqual(intervals, [{ seconds: 1, bytes: 5 }, { seconds: 0.2, bytes: 1 }]);
});

Deno.test("receiverIntervals() says when the server's report is missing or malformed", () => {
  throws(() => receiverIntervals({ end: {}, server_output_text: "..." }), /no server_output_json/);
  throws(
    () => receiverIntervals({ server_output_json: { intervals: [{ sum: { seconds: 1 } }] } }),
    /interval 0 has no sum/,
  );
});

Deno.test("summarizeSeconds() finds the slowest whole second and counts empty ones", () => {
  const summary = summarizeSeconds([
    { seconds: 1, bytes: 12e6 },
    { seconds: 1, bytes: 0 },
    { seconds: 1.0001, bytes: 3e6 },
    { seconds: 1, bytes: 0 },
    // iperf3's last, partial interval: neither slowest nor counted.
    { seconds: 0.01, bytes: 0 },
  ]);
  deepStrictEqual(summary, { slowestMbPerSec: 0, zeroSeconds: 2, seconds: 4 });
  const steady = summarizeSeconds([{ seconds: 1, bytes: 8e6 }, { seconds: 2, bytes: 10e6 }]);
  deepStrictEqual(steady, { slowestMbPerSec: 5, zeroSeconds: 0, seconds: 2 });
  deepStrictEqual(summarizeSeconds([]), { slowestMbPerSec: null, zeroSeconds: 0, seconds: 0 });
});
