/**
 * A small seeded pseudo-random generator, so a delay line's losses and jitter repeat
 * exactly from run to run (and in unit tests): mulberry32, the one birthday punching's
 * planner draws its ports with (pure, no imports), numbers in [0, 1), the same
 * sequence for the same seed; not for anything secret.
 *
 * ```ts
 * const random = seededRandom(42);
 * const lost = random() < 0.01;
 * ```
 * @module
 */
export { seededRandom } from "../../../core/nat/birthday_plan.ts";
