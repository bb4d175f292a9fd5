import { equal, throws } from "node:assert/strict";
import { parseVmRssBytes } from "./process_rss.ts";

Deno.test("parseVmRssBytes() reads VmRSS in kB, and refuses a status without it", () => {
  equal(
    parseVmRssBytes("Name:\tdeno\nVmPeak:\t 9 kB\nVmRSS:\t   70420 kB\nThreads:\t9\n"),
    70420 * 1024,
  );
  throws(() => parseVmRssBytes("Name:\tdeno\n"), /no VmRSS/);
  throws(() => parseVmRssBytes("VmRSS:\t12 MB\n"), /no VmRSS/);
});
