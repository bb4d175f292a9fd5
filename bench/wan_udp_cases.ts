/**
 * The cases of the WAN UDP table (`deno task bench --only wan-udp`): three of the TCP
 * table's (`wan_cases.ts`: RTT 20 and 80 ms, 80 ms with 1% loss on the data direction)
 * and one of its own, 80 ms with ±5 ms of jitter on the data direction that keeps
 * frames in order (a datagram is held back, never overtaken).
 * @module
 */
import { selectWanCases, split, type WanCase } from "./wan_cases.ts";

/** Jitter of the jitter case, each way from the mean one-way delay. */
export const JITTER_US = 5_000;
const JITTER_RTT_MS = 80;
// Fixed seed: the same delays in every run of the case.
const JITTER_SEED = 5;

function jittered(rttMs: number): WanCase {
  const { ab, ba } = split(rttMs);
  return {
    id: "jitter5",
    title: `RTT ${rttMs} ms, ±${JITTER_US / 1000} ms jitter (data direction, frames in order)`,
    ab: { ...ab, jitterUs: JITTER_US, reorder: false, seed: JITTER_SEED },
    ba,
  };
}

/** Every case of the WAN UDP table, in table order. */
export const WAN_UDP_CASES: readonly WanCase[] = [
  ...selectWanCases(["rtt20", "rtt80", "loss1"]),
  jittered(JITTER_RTT_MS),
];
