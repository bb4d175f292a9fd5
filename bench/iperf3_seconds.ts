/**
 * Per-second figures of an iperf3 test, read on the receiving side: `iperf3 -s -J` run with
 * a client's `--get-server-output` puts the server's own report in `server_output_json`,
 * whose `intervals` count the bytes that arrived each second. The sender's intervals would
 * hide a stall behind the socket and forwarder buffers it fills.
 * @module
 */

/** One reporting interval of the receiver. */
export interface ReceiverInterval {
  /** Length of the interval in seconds (1 unless it is the last, partial one). */
  seconds: number;
  /** Bytes received in it, all streams together. */
  bytes: number;
}

/** What the seconds of one or more tests show. */
export interface SecondsSummary {
  /** MB/s (10^6 bytes) of the slowest whole interval; null when there was none. */
  slowestMbPerSec: number | null;
  /** Whole intervals in which no byte arrived. */
  zeroSeconds: number;
  /** Whole intervals counted. */
  seconds: number;
}

// iperf3 ends with a partial interval (often a few ms): its rate says nothing about a second.
const MIN_WHOLE_SECONDS = 0.5;

/**
 * The receiver's intervals from an `iperf3 -c -J --get-server-output` report (parsed JSON).
 *
 * @throws {Error} "Cannot read iperf3's receiver intervals: ..." when the report has no
 *   `server_output_json.intervals` (the server ran without `-J`, or the option was missing).
 */
export function receiverIntervals(report: unknown): ReceiverInterval[] {
  // deno-lint-ignore no-explicit-any
  const intervals = (report as any)?.server_output_json?.intervals;
  if (!Array.isArray(intervals)) {
    throw new Error("Cannot read iperf3's receiver intervals: no server_output_json.intervals");
  }
  return intervals.map((interval, i): ReceiverInterval => {
    const { seconds, bytes } = interval?.sum ?? {};
    if (!Number.isFinite(seconds) || !Number.isFinite(bytes)) {
      throw new Error(`Cannot read iperf3's receiver intervals: interval ${i} has no sum`);
    }
    return { seconds, bytes };
  });
}

/**
 * The slowest whole second and the count of seconds without a byte, over the intervals of
 * any number of tests; intervals shorter than half a second (iperf3's last) are left out.
 */
export function summarizeSeconds(intervals: readonly ReceiverInterval[]): SecondsSummary {
  const whole = intervals.filter((interval) => interval.seconds >= MIN_WHOLE_SECONDS);
  const rates = whole.map((interval) => interval.bytes / interval.seconds / 1e6);
  return {
    slowestMbPerSec: rates.length > 0 ? Math.min(...rates) : null,
    zeroSeconds: whole.filter((interval) => interval.bytes === 0).length,
    seconds: whole.length,
  };
}
