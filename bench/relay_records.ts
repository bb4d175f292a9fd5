/**
 * How many discovery records and lookups one `tunnel relay` serves: a real
 * relay process on loopback, fed records signed beforehand (`record_corpus.ts`)
 * from many source addresses of 127.0.0.0/8 (the relay limits writes and DNS
 * queries per address), measured for PUT until the store is full, GET hits
 * and misses, DNS over UDP, RSS at 10k and 100k records, and the same with
 * `--records-file`. Beside it, in the same run, two references: a `node:http`
 * and UDP server answering the same requests with no store
 * (`_pkarr_reference_server.ts`), and the store's handler called in-process.
 * @module
 */
import { DEFAULT_MAX_RECORDS } from "../core/discovery/mod.ts";
import { ManagedProcess, tunnelCommandArgs } from "../tests/harness/mod.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import type { BenchRow, BenchSuite } from "./bench_suite.ts";
import { reasonOf } from "./bench_suite.ts";
import { dnsUdpSourceRunner } from "./dns_udp_load.ts";
import { httpSourceRunner } from "./http_source_load.ts";
import { inProcessStoreRunner } from "./in_process_store_load.ts";
import { answersPerSecond, latencyPercentile, type LoadOutcome, runLanes } from "./load_lanes.ts";
import { readRssBytes } from "./process_rss.ts";
import { type CorpusRecord, signCorpus } from "./record_corpus.ts";
import {
  dnsTasks,
  dohTasks,
  getTasks,
  oneSourcePuts,
  putTasks,
  SourcePool,
} from "./relay_records_loads.ts";

/** Records the relay is filled with: its default capacity. */
const FILL_RECORDS = DEFAULT_MAX_RECORDS;
/** The first RSS sample, and the records the `--records-file` relay is filled with. */
const FIRST_SAMPLE = 10_000;
/** Records never stored: GET misses and writes to a full store. */
const EXTRA_RECORDS = 2_000;
/** PUTs per source: the relay's write burst per address (20), so none meets the rate limit. */
const PUTS_PER_SOURCE = 20;
/** Sources PUTting at once. */
const PUT_LANES = 32;
/** Connections GETting at once in the aggregate rows. */
const GET_CONNECTIONS = 16;
/** DNS queries per source: the DNS face's burst per address (100). */
const DNS_PER_SOURCE = 100;
/** DNS sources at once, and in all. */
const DNS_LANES = 16;
const DNS_SOURCES = 200;
/** How long each rate-limited and each GET row runs at most, ms. */
const SHORT_ROW_MS = 2_000;
/** Bound on a fill, ms. */
const FILL_DEADLINE_MS = 150_000;
const ORIGIN = "relay-records.bench";
const MB = 1e6;

/** The `relay-records` suite. */
export const relayRecords: BenchSuite = {
  name: "relay-records",
  description:
    "tunnel relay's record store: PUT until full, GET hit/miss, DNS UDP and DoH, RSS at 10k/100k records, --records-file; beside a no-store node:http/UDP reference and the store in-process",
  async run(env) {
    const table = "Relay records: one tunnel relay on loopback";
    const rows: BenchRow[] = [];
    const t0 = performance.now();
    const corpus = await signCorpus(FILL_RECORDS + EXTRA_RECORDS);
    const stored = corpus.slice(0, FILL_RECORDS);
    const extra = corpus.slice(FILL_RECORDS);
    const keys = stored.map((record) => record.key);
    const firstKeys = keys.slice(0, FIRST_SAMPLE);
    const missKeys = extra.map((record) => record.key);
    console.error(
      `[bench] relay-records: ${corpus.length} records signed in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );
    const sources = new SourcePool();

    // References first, on an idle machine as the relay gets it.
    rows.push(
      ...await referenceRows(env, table, stored.slice(0, FIRST_SAMPLE), missKeys, sources),
    );
    rows.push(...await inProcessRows(table, stored.slice(0, FIRST_SAMPLE), missKeys, sources));

    let relay: RelayUnderLoad | undefined;
    try {
      relay = await startRelay(env, []);
      const idle = await readRssBytes(relay.pid);
      rows.push({
        table,
        path: "relay: idle, 0 records",
        values: { "answers/s": null, "p50 ms": null, "p99 ms": null, "RSS MB": idle / MB },
        note: "RSS after start-up",
      });
      const first = await fill(relay, stored.slice(0, FIRST_SAMPLE), sources);
      rows.push(loadRow(table, "relay: PUT 0 → 10k records", first, {
        rss: await readRssBytes(relay.pid),
        bound: `${PUTS_PER_SOURCE} per source from ${
          Math.ceil(FIRST_SAMPLE / PUTS_PER_SOURCE)
        } sources, ${PUT_LANES} at once: CPU (Ed25519 check per PUT)`,
      }));
      const rest = await fill(relay, stored.slice(FIRST_SAMPLE), sources);
      rows.push(loadRow(table, "relay: PUT 10k → 100k records (full)", rest, {
        rss: await readRssBytes(relay.pid),
        bound: `CPU (Ed25519 check per PUT); then full at --max-records ${FILL_RECORDS}`,
      }));
      // Lookups before the writes below evict anything: every key of `keys` is held.
      rows.push(
        ...await lookupRows(table, "relay", relay, keys, missKeys, sources),
      );
      const full = await runLanes(
        putTasks(extra.slice(0, 1_000), PUTS_PER_SOURCE, sources),
        PUT_LANES,
        FILL_DEADLINE_MS,
        relay.http,
      );
      rows.push(loadRow(table, "relay: PUT to the full store, new sources", full, {
        bound:
          "a newcomer's write evicts the oldest record of the address holding most, while that holds 2 more than the newcomer: each source's 20th is refused (429, full)",
      }));
    } catch (error) {
      rows.push(unavailable(table, "relay", error));
    } finally {
      await relay?.stop();
    }

    let persistent: RelayUnderLoad | undefined;
    const dir = await Deno.makeTempDir({ prefix: "tunnel-bench-records-" });
    const file = `${dir}/records.sqlite`;
    const removeDir = () => Deno.remove(dir, { recursive: true }).catch(() => {});
    env.onStop(removeDir);
    try {
      persistent = await startRelay(env, ["--records-file", file]);
      const filled = await fill(persistent, stored.slice(0, FIRST_SAMPLE), sources);
      // Past the file's batching interval (1 s), every record is on disk.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      rows.push(loadRow(table, "relay --records-file: PUT 0 → 10k records", filled, {
        rss: await readRssBytes(persistent.pid),
        bound: `as in memory, plus batched SQLite writes; file ${
          ((await Deno.stat(file)).size / MB).toFixed(1)
        } MB`,
      }));
      const hits = await runLanes(
        getTasks(firstKeys, GET_CONNECTIONS, 50_000, sources),
        GET_CONNECTIONS,
        SHORT_ROW_MS,
        persistent.http,
      );
      rows.push(
        loadRow(table, `relay --records-file: GET hit, ${GET_CONNECTIONS} connections`, hits, {
          bound: "as in memory: reads come from memory",
        }),
      );
      // The store is far from full here, so what one source meets is its write rate.
      const oneSource = await runLanes(
        [oneSourcePuts(extra.slice(1_000), 20_000, sources)],
        1,
        SHORT_ROW_MS,
        persistent.http,
      );
      rows.push(
        loadRow(table, "relay --records-file: PUT from one source, 1 connection", oneSource, {
          bound: "address write limit: 20 at once then 1/s; the rest 429",
        }),
      );
      await persistent.stop();
      const restartedAt = performance.now();
      persistent = await startRelay(env, ["--records-file", file]);
      const loaded = await persistent.proc.waitForLine(
        new RegExp(`^Records file ${escapeRegExp(file)}: \\d+ record`),
        { timeoutMs: 60_000 },
      );
      rows.push({
        table,
        path: "relay --records-file: restart with 10k records",
        values: {
          "answers/s": null,
          "p50 ms": null,
          "p99 ms": null,
          "RSS MB": await readRssBytes(persistent.pid) / MB,
        },
        note: `spawn to "${loaded.replace(file, "FILE")}" in ${
          ((performance.now() - restartedAt) / 1000).toFixed(1)
        } s (each signature checked again; the relay serves meanwhile)`,
      });
    } catch (error) {
      rows.push(unavailable(table, "relay --records-file", error));
    } finally {
      await persistent?.stop();
      await removeDir();
    }
    return rows;
  },
};

/** A relay process under load: its pid, and runners for HTTP and DNS tasks. */
interface RelayUnderLoad {
  proc: ManagedProcess;
  pid: number;
  http: ReturnType<typeof httpSourceRunner>;
  dns: ReturnType<typeof dnsUdpSourceRunner>;
  stop(): Promise<unknown>;
}

/** Starts a relay; `env` also stops it on Ctrl-C. */
async function startRelay(env: BenchEnvironment, extraArgs: string[]): Promise<RelayUnderLoad> {
  const proc = ManagedProcess.spawn(Deno.execPath(), {
    args: tunnelCommandArgs([
      "relay",
      "--bind",
      "127.0.0.1:0",
      "--no-stun",
      "--dns-bind",
      "127.0.0.1:0",
      "--dns-origin",
      ORIGIN,
      ...extraArgs,
    ], { mainModule: env.mainModule }),
  });
  env.onStop(() => proc.stop());
  try {
    const listening = await proc.waitForLine(/^Relay listening on /, { timeoutMs: 20_000 });
    const dnsLine = await proc.waitForLine(/^DNS on udp and tcp /, { timeoutMs: 20_000 });
    await proc.waitForLine("Relay ready", { timeoutMs: 20_000 });
    const httpPort = Number(/:(\d+)\/$/.exec(listening)![1]);
    const dnsPort = Number(/127\.0\.0\.1:(\d+)/.exec(dnsLine)![1]);
    return {
      proc,
      pid: proc.process.pid,
      http: httpSourceRunner("127.0.0.1", httpPort),
      dns: dnsUdpSourceRunner({ host: "127.0.0.1", port: dnsPort }),
      stop: () => proc.stop(),
    };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/** PUTs `records` from fresh sources, each within its burst. */
function fill(
  relay: { http: RelayUnderLoad["http"] },
  records: readonly CorpusRecord[],
  sources: SourcePool,
): Promise<LoadOutcome> {
  return runLanes(
    putTasks(records, PUTS_PER_SOURCE, sources),
    PUT_LANES,
    FILL_DEADLINE_MS,
    relay.http,
  );
}

/** GET hits over one and many connections, GET misses, DNS over UDP from one and many sources. */
async function lookupRows(
  table: string,
  label: string,
  target: { http: RelayUnderLoad["http"]; dns: RelayUnderLoad["dns"] },
  keys: readonly string[],
  missKeys: readonly string[],
  sources: SourcePool,
  reference = false,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // The reference has no limits: what bounds it is the HTTP stack, the sockets and this client.
  const bound = (relay: string) => reference ? "no store, no limits" : relay;
  const one = await runLanes(getTasks(keys, 1, 50_000, sources), 1, SHORT_ROW_MS, target.http);
  rows.push(loadRow(table, `${label}: GET hit, 1 connection`, one, {
    bound: bound("one request at a time: the round trip"),
  }));
  const hits = await runLanes(
    getTasks(keys, GET_CONNECTIONS, 50_000, sources),
    GET_CONNECTIONS,
    SHORT_ROW_MS,
    target.http,
  );
  rows.push(loadRow(table, `${label}: GET hit, ${GET_CONNECTIONS} connections`, hits, {
    bound: bound("no per-source limit on reads: CPU"),
  }));
  const misses = await runLanes(
    getTasks(missKeys, GET_CONNECTIONS, 50_000, sources),
    GET_CONNECTIONS,
    SHORT_ROW_MS,
    target.http,
  );
  rows.push(loadRow(table, `${label}: GET miss, ${GET_CONNECTIONS} connections`, misses, {
    bound: bound("as hits"),
  }));
  const dnsOne = await runLanes(
    dnsTasks(keys, ORIGIN, 1, 100_000, sources),
    1,
    SHORT_ROW_MS,
    target.dns,
  );
  rows.push(loadRow(table, `${label}: DNS UDP, one source`, dnsOne, {
    bound: bound("DNS limit per address: 100 at once then 20/s; the rest dropped (lost)"),
  }));
  const dnsMany = await runLanes(
    dnsTasks(keys, ORIGIN, DNS_SOURCES, DNS_PER_SOURCE, sources),
    DNS_LANES,
    SHORT_ROW_MS * 3,
    target.dns,
  );
  rows.push(loadRow(table, `${label}: DNS UDP, ${DNS_SOURCES} sources`, dnsMany, {
    bound: bound(
      `${DNS_PER_SOURCE} per source, ${DNS_LANES} sources at once, 8 queries in flight each: CPU`,
    ),
  }));
  const doh = await runLanes(
    dohTasks(keys, ORIGIN, DNS_SOURCES, DNS_PER_SOURCE, sources),
    DNS_LANES,
    SHORT_ROW_MS * 3,
    target.http,
  );
  rows.push(loadRow(table, `${label}: DoH GET /dns-query, ${DNS_SOURCES} sources`, doh, {
    bound: bound(
      `${DNS_PER_SOURCE} per source (its DNS burst), ${DNS_LANES} connections at once: CPU and the HTTP stack`,
    ),
  }));
  return rows;
}

async function referenceRows(
  env: BenchEnvironment,
  table: string,
  records: readonly CorpusRecord[],
  missKeys: readonly string[],
  sources: SourcePool,
): Promise<BenchRow[]> {
  const proc = ManagedProcess.spawn(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net",
      new URL("./_pkarr_reference_server.ts", import.meta.url).pathname,
    ],
  });
  env.onStop(() => proc.stop());
  try {
    const line = await proc.waitForLine(/^reference listening http \d+ udp \d+$/, {
      timeoutMs: 20_000,
    });
    const [httpPort, udpPort] = [...line.matchAll(/\d+/g)].map((m) => Number(m[0]));
    const reference = {
      http: httpSourceRunner("127.0.0.1", httpPort),
      dns: dnsUdpSourceRunner({ host: "127.0.0.1", port: udpPort }),
    };
    const label = "reference (node:http + UDP, no store)";
    const put = await fill(reference, records, sources);
    return [
      loadRow(table, `${label}: PUT 10k`, put, { bound: "no store, no limits" }),
      ...await lookupRows(
        table,
        label,
        reference,
        records.map((record) => record.key),
        missKeys,
        sources,
        true,
      ),
    ];
  } catch (error) {
    return [unavailable(table, "reference", error)];
  } finally {
    await proc.stop();
  }
}

async function inProcessRows(
  table: string,
  records: readonly CorpusRecord[],
  missKeys: readonly string[],
  sources: SourcePool,
): Promise<BenchRow[]> {
  const run = inProcessStoreRunner();
  const label = "store in-process (no network)";
  const put = await runLanes(putTasks(records, PUTS_PER_SOURCE, sources), 1, FILL_DEADLINE_MS, run);
  const keys = records.map((record) => record.key);
  const hits = await runLanes(getTasks(keys, 1, 50_000, sources), 1, SHORT_ROW_MS, run);
  const misses = await runLanes(getTasks(missKeys, 1, 50_000, sources), 1, SHORT_ROW_MS, run);
  return [
    loadRow(table, `${label}: PUT 10k`, put, { bound: "one thread: Ed25519 check" }),
    loadRow(table, `${label}: GET hit`, hits, { bound: "one thread" }),
    loadRow(table, `${label}: GET miss`, misses, { bound: "one thread" }),
  ];
}

/** A row of a load: answers/s, latency percentiles, RSS; the note counts each outcome. */
function loadRow(
  table: string,
  path: string,
  load: LoadOutcome,
  extra: { rss?: number; bound: string },
): BenchRow {
  // An answer is any reply, refusals included; a DNS query nobody answered is not.
  const answered = Object.keys(load.outcomes).filter((outcome) => outcome !== "lost");
  const outcomes = Object.entries(load.outcomes).map(([outcome, n]) => `${outcome} ×${n}`).join(
    ", ",
  );
  const notes = [
    `${outcomes || "no answer"} in ${(load.elapsedMs / 1000).toFixed(1)} s`,
    load.cutShort ? "stopped at its time bound" : "",
    load.failures.count ? `${load.failures.count} source(s) failed: ${load.failures.first}` : "",
    `bound: ${extra.bound}`,
  ];
  return {
    table,
    path,
    values: {
      "answers/s": answersPerSecond(load, answered),
      "p50 ms": latencyPercentile(load, 50),
      "p99 ms": latencyPercentile(load, 99),
      "RSS MB": extra.rss === undefined ? null : extra.rss / MB,
    },
    note: notes.filter(Boolean).join("; "),
  };
}

function unavailable(table: string, path: string, error: unknown): BenchRow {
  return { table, path, values: {}, note: `unavailable: ${reasonOf(error)}` };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
