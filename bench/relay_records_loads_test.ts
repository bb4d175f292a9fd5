import { deepStrictEqual, equal, throws } from "node:assert/strict";
import type { CorpusRecord } from "./record_corpus.ts";
import { decodeDnsPacket } from "../core/discovery/mod.ts";
import {
  dnsTasks,
  dohTasks,
  getTasks,
  oneSourcePuts,
  putTasks,
  SourcePool,
} from "./relay_records_loads.ts";

const records: CorpusRecord[] = Array.from({ length: 45 }, (_, i) => ({
  key: `k${i}`,
  body: new Uint8Array([i]),
}));

Deno.test("putTasks() gives each source at most its share of PUTs, every source fresh", () => {
  const sources = new SourcePool();
  const tasks = putTasks(records, 20, sources);
  deepStrictEqual(tasks.map((task) => [...task.requests].length), [20, 20, 5]);
  deepStrictEqual(tasks.map((task) => task.localAddress), ["127.1.0.1", "127.1.0.2", "127.1.0.3"]);
  deepStrictEqual([...tasks[1].requests][0], {
    method: "PUT",
    path: "/pkarr/k20",
    body: new Uint8Array([20]),
  });
  equal(sources.used, 3);
  throws(() => putTasks(records, 0, sources), RangeError);
});

Deno.test("getTasks() and dnsTasks() bound each source's requests and spread the start", () => {
  const sources = new SourcePool(10);
  const gets = getTasks(["a", "b", "c", "d"], 2, 3, sources);
  deepStrictEqual(gets.map((task) => [...task.requests].map((r) => r.path)), [
    ["/pkarr/a", "/pkarr/b", "/pkarr/c"],
    ["/pkarr/c", "/pkarr/d", "/pkarr/a"],
  ]);
  const dns = dnsTasks(["a", "b", "c"], "o.test", 2, 2, sources);
  deepStrictEqual(dns.map((task) => [...task.names]), [["_iroh.a.o.test", "_iroh.b.o.test"], [
    "_iroh.c.o.test",
    "_iroh.a.o.test",
  ]]);
  equal(sources.used, 14);
  const one = oneSourcePuts(records.slice(0, 2), 5, sources);
  deepStrictEqual([...one.requests].map((r) => r.path), [
    "/pkarr/k0",
    "/pkarr/k1",
    "/pkarr/k0",
    "/pkarr/k1",
    "/pkarr/k0",
  ]);
});

Deno.test("dohTasks() asks the same names as RFC 8484 GETs, one source each", () => {
  const tasks = dohTasks(["a", "b"], "o.test", 2, 3, new SourcePool());
  const paths = tasks.map((task) => [...task.requests].map((r) => r.path));
  equal(paths[0].length, 3);
  const names = paths.flat().map((path) => {
    const encoded = path.replace("/dns-query?dns=", "").replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
    return decodeDnsPacket(bytes).questions[0].name;
  });
  deepStrictEqual(names, [
    "_iroh.a.o.test",
    "_iroh.b.o.test",
    "_iroh.a.o.test",
    "_iroh.b.o.test",
    "_iroh.a.o.test",
    "_iroh.b.o.test",
  ]);
  deepStrictEqual(tasks.map((task) => task.localAddress), ["127.1.0.1", "127.1.0.2"]);
});
