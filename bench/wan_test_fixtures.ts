/**
 * Fixtures of the WAN tables' tests (not used by the bench itself).
 * @module
 */
import type { DirectionReport } from "../tests/netns/wan/wan_pair.ts";

/** One direction's counters of a delay line that carried 10 frames and dropped none. */
export const QUIET_DIRECTION: DirectionReport = {
  offered: 10,
  lost: 0,
  overflowed: 0,
  departed: 10,
  departedBytes: 15_140,
  truncated: 0,
  noSlot: 0,
  sendDrops: 0,
  pending: 0,
};
