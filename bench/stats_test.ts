import { equal, throws } from "node:assert/strict";
import { median, medianOfKnown, percentile } from "./stats.ts";

Deno.test("median() takes the middle, or the mean of the middle two", () => {
  equal(median([3, 1, 2]), 2);
  equal(median([4, 1, 3, 2]), 2.5);
  equal(Number.isNaN(median([])), true);
});

Deno.test("percentile() uses nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  equal(percentile(values, 99), 99);
  equal(percentile(values, 100), 100);
  equal(percentile(values, 0), 1);
  equal(percentile([5], 99), 5);
  throws(() => percentile(values, 101), RangeError);
});

Deno.test("medianOfKnown() leaves nulls out, and is null when nothing is known", () => {
  equal(medianOfKnown([null, 3, 1, null]), 2);
  equal(medianOfKnown([null]), null);
  equal(medianOfKnown([]), null);
});
