/**
 * Log output that stays readable under a flood: the first line of each kind
 * at once, the rest summarised per interval. Used by sessions, the relay and
 * the VPN alike, so it belongs to none of them.
 * @module
 */
export { RepeatedLines, SUMMARY_INTERVAL_MS } from "./repeated_lines.ts";
export { sayIfSlow, SLOW_STEP_MS } from "./slow_step.ts";
