/**
 * VPN mode's WireGuard engine, built sans-IO piece by piece. So far: the
 * replay window of transport messages.
 *
 * ```ts
 * import { ReplayWindow } from "./mod.ts";
 * const window = new ReplayWindow();
 * window.accept(0); // true
 * window.accept(0); // false: a copy
 * ```
 * @module
 */
export { MAX_COUNTER, REPLAY_WINDOW, ReplayWindow } from "./replay_window.ts";
