import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { RateSearch, type RateSearchOptions } from "./rate_search.ts";

// Runs a search against a path that keeps up with every rate up to `limit`.
function searchWithLimit(limit: number, options: RateSearchOptions): RateSearch {
  const search = new RateSearch(options);
  // Bounded by maxProbes; the extra guard catches a search that never ends.
  for (let i = 0, rate = search.next(); rate !== undefined; rate = search.next()) {
    if (++i > 100) throw new Error("search did not stop");
    search.record(rate, rate <= limit);
  }
  return search;
}

const OPTIONS = { low: 10, high: 1000, maxProbes: 6 };

Deno.test("RateSearch probes the high end first and stops when it passes", () => {
  const search = searchWithLimit(5_000, OPTIONS);
  deepStrictEqual(search.probes, [{ rate: 1000, passed: true }]);
  strictEqual(search.best, 1000);
});

Deno.test("RateSearch ends within 16% under the limit, in at most maxProbes probes", () => {
  for (const limit of [11, 37, 50, 99, 100, 101, 250, 420, 777, 999]) {
    const search = searchWithLimit(limit, OPTIONS);
    ok(search.probes.length <= OPTIONS.maxProbes, `${limit}: ${search.probes.length} probes`);
    const best = search.best!;
    ok(best <= limit && best >= limit / 1.16, `limit ${limit}: best ${best}`);
    ok(search.lowestFailed! > limit, `limit ${limit}: failed at ${search.lowestFailed}`);
  }
});

Deno.test("RateSearch reports no best when even the lowest probe failed", () => {
  const search = searchWithLimit(1, OPTIONS);
  strictEqual(search.best, undefined);
  ok(search.lowestFailed! < 20, `lowest failed ${search.lowestFailed}`);
});

Deno.test("RateSearch stops early once no integer rate is left between pass and fail", () => {
  const search = searchWithLimit(3, { low: 2, high: 5, maxProbes: 20 });
  deepStrictEqual(search.probes.map((probe) => probe.rate), [5, 3, 4]);
  strictEqual(search.best, 3);
});

Deno.test("RateSearch stops when a noisy path passes above a rate it failed", () => {
  const search = new RateSearch(OPTIONS);
  search.record(1000, false);
  search.record(100, false);
  search.record(316, true);
  strictEqual(search.next(), undefined);
  strictEqual(search.best, 316);
});

Deno.test("RateSearch rejects bounds it cannot search", () => {
  throws(() => new RateSearch({ low: 0, high: 10, maxProbes: 3 }), RangeError);
  throws(() => new RateSearch({ low: 10, high: 10, maxProbes: 3 }), RangeError);
  throws(() => new RateSearch({ low: 1, high: 10, maxProbes: 0 }), RangeError);
  throws(() => new RateSearch({ low: 1, high: 10, maxProbes: 1.5 }), RangeError);
});
