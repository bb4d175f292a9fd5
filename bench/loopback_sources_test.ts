import { equal, throws } from "node:assert/strict";
import { loopbackSource, MAX_LOOPBACK_SOURCES } from "./loopback_sources.ts";

Deno.test("loopbackSource() counts through 127.1.0.0/16 and on, never a .0 or .255 host", () => {
  equal(loopbackSource(0), "127.1.0.1");
  equal(loopbackSource(253), "127.1.0.254");
  equal(loopbackSource(254), "127.1.1.1");
  equal(loopbackSource(254 * 256), "127.2.0.1");
  equal(loopbackSource(MAX_LOOPBACK_SOURCES - 1), "127.254.255.254");
  const seen = new Set<string>();
  for (let i = 0; i < 70_000; i++) {
    const address = loopbackSource(i);
    const host = Number(address.split(".")[3]);
    equal(host >= 1 && host <= 254, true, address);
    seen.add(address);
  }
  equal(seen.size, 70_000);
});

Deno.test("loopbackSource() refuses an index outside the range", () => {
  throws(() => loopbackSource(-1), RangeError);
  throws(() => loopbackSource(MAX_LOOPBACK_SOURCES), RangeError);
  throws(() => loopbackSource(1.5), RangeError);
});
