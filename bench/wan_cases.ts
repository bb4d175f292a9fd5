/**
 * The cases of the WAN table (`deno task bench --only wan`): what the delay line between
 * the two namespaces does in each direction, and how many iperf3 streams run. Pure data
 * and the `--wan-cases` selection; `wan_suite.ts` runs them.
 *
 * Data flows left (iperf3 client) to right (iperf3 server), so `ab` is the data
 * direction and `ba` carries the ACKs.
 * @module
 */
import type { DirectionConfig } from "../tests/netns/wan/wan_pair.ts";

/** One case: a WAN and a stream count. */
export interface WanCase {
  /** Short id, for `--wan-cases`. */
  id: string;
  /** Row label of the summary table and title of the case's own table. */
  title: string;
  /** Left to right: the data direction. */
  ab: DirectionConfig;
  /** Right to left: ACKs. */
  ba: DirectionConfig;
  /** iperf3 -P; one stream when absent. */
  parallel?: number;
}

const MS = 1000;
// Fixed seeds: the line drops the same frame numbers in every run of a case.
const LOSS_SEED = 20;
const CAP_BITS_PER_SECOND = 100e6;
const CAP_RTT_MS = 40;
/**
 * The rate-capped case's drop-tail queue: one bandwidth-delay product (100 Mbit/s x 40 ms
 * = 500,000 bytes), the classic router buffer rule, so a single Reno/Cubic flow can keep
 * the link busy while its window halves.
 */
export const CAP_QUEUE_BYTES = CAP_BITS_PER_SECOND / 8 * CAP_RTT_MS / 1000;

/** Half of `rttMs` each way: the delay of both directions, nothing else. */
export function split(rttMs: number): { ab: DirectionConfig; ba: DirectionConfig } {
  return { ab: { delayUs: rttMs / 2 * MS }, ba: { delayUs: rttMs / 2 * MS } };
}

function lossy(rttMs: number, loss: number): { ab: DirectionConfig; ba: DirectionConfig } {
  const { ab, ba } = split(rttMs);
  return { ab: { ...ab, loss, seed: LOSS_SEED }, ba };
}

function capped(rttMs: number): { ab: DirectionConfig; ba: DirectionConfig } {
  const cap = { rateBitsPerSecond: CAP_BITS_PER_SECOND, queueBytes: CAP_QUEUE_BYTES };
  const { ab, ba } = split(rttMs);
  return { ab: { ...ab, ...cap }, ba: { ...ba, ...cap } };
}

/** Every case, in table order. */
export const WAN_CASES: readonly WanCase[] = [
  { id: "rtt0", title: "RTT 0 ms (the line alone)", ...split(0) },
  { id: "rtt20", title: "RTT 20 ms", ...split(20) },
  { id: "rtt80", title: "RTT 80 ms", ...split(80) },
  { id: "rtt150", title: "RTT 150 ms", ...split(150) },
  { id: "loss0.5", title: "RTT 80 ms, 0.5% loss (data direction)", ...lossy(80, 0.005) },
  { id: "loss1", title: "RTT 80 ms, 1% loss (data direction)", ...lossy(80, 0.01) },
  { id: "streams4", title: "RTT 80 ms, 4 streams (iperf3 -P 4)", ...split(80), parallel: 4 },
  {
    id: "cap100",
    title: `RTT ${CAP_RTT_MS} ms, 100 Mbit/s both ways, ${
      CAP_QUEUE_BYTES / 1000
    } kB drop-tail queue`,
    ...capped(CAP_RTT_MS),
  },
];

/**
 * The cases named by `ids` (all when absent), in table order.
 *
 * @throws {TypeError} "Cannot parse --wan-cases: unknown case X (known: ...)" for an id
 *   not in {@link WAN_CASES}, or "... no case named" for an empty list.
 */
export function selectWanCases(ids?: readonly string[]): WanCase[] {
  if (ids === undefined) return [...WAN_CASES];
  const unknown = ids.filter((id) => !WAN_CASES.some((c) => c.id === id));
  if (unknown.length > 0) {
    const known = WAN_CASES.map((c) => c.id).join(", ");
    throw new TypeError(`Cannot parse --wan-cases: unknown case ${unknown[0]} (known: ${known})`);
  }
  if (ids.length === 0) throw new TypeError("Cannot parse --wan-cases: no case named");
  return WAN_CASES.filter((c) => ids.includes(c.id));
}
