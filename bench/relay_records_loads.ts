/**
 * The requests of the relay-records suite, built from a signed corpus: PUTs
 * spread over many source addresses (each within the relay's write burst),
 * GETs over a few connections, DNS queries over many sources. Pure: the
 * suite runs them on `load_lanes.ts`'s lanes.
 * @module
 */
import { type DnsSourceTask, dnsTxtQuery } from "./dns_udp_load.ts";
import type { HttpLoadRequest, HttpSourceTask } from "./http_source_load.ts";
import { loopbackSource } from "./loopback_sources.ts";
import type { CorpusRecord } from "./record_corpus.ts";

/** Hands out loopback source addresses, each once, so no phase inherits another's rate buckets. */
export class SourcePool {
  #next: number;

  /** @param first The index of the first source handed out (see `loopbackSource`). */
  constructor(first = 0) {
    this.#next = first;
  }

  /** Sources handed out so far. */
  get used(): number {
    return this.#next;
  }

  /** A fresh source address. */
  take(): string {
    return loopbackSource(this.#next++);
  }
}

/**
 * PUTs of `records`, `perSource` from each source of `sources`: with
 * `perSource` within the relay's write burst, no PUT meets the rate limit.
 * @throws {RangeError} unless `perSource` is a positive integer.
 */
export function putTasks(
  records: readonly CorpusRecord[],
  perSource: number,
  sources: SourcePool,
): HttpSourceTask[] {
  if (!Number.isInteger(perSource) || perSource < 1) {
    throw new RangeError(`Cannot spread PUTs: ${perSource} per source is not a positive integer`);
  }
  const tasks: HttpSourceTask[] = [];
  for (let i = 0; i < records.length; i += perSource) {
    tasks.push({
      localAddress: sources.take(),
      requests: records.slice(i, i + perSource).map(putRequest),
    });
  }
  return tasks;
}

/**
 * One source PUTting `records` in turn, `count` PUTs in all (a record comes
 * round again once the list is through: the same bytes again, which the
 * relay accepts without a change once it holds them).
 */
export function oneSourcePuts(
  records: readonly CorpusRecord[],
  count: number,
  sources: SourcePool,
): HttpSourceTask {
  return { localAddress: sources.take(), requests: cycle(records, 0, count, putRequest) };
}

/** The PUT of one record. */
export function putRequest(record: CorpusRecord): HttpLoadRequest {
  return { method: "PUT", path: `/pkarr/${record.key}`, body: record.body };
}

/**
 * `connections` tasks, each from its own source, GETting `keys` in turn (each
 * task starting elsewhere in the list) up to `perConnection` times.
 */
export function getTasks(
  keys: readonly string[],
  connections: number,
  perConnection: number,
  sources: SourcePool,
): HttpSourceTask[] {
  return Array.from({ length: connections }, (_, lane) => ({
    localAddress: sources.take(),
    requests: cycle(keys, Math.floor(lane * keys.length / connections), perConnection, (key) => ({
      method: "GET" as const,
      path: `/pkarr/${key}`,
    })),
  }));
}

/**
 * `sourceCount` tasks, each from its own source, asking `_iroh.<key>.<origin>`
 * TXT for `keys` in turn, `perSource` queries each.
 */
export function dnsTasks(
  keys: readonly string[],
  origin: string,
  sourceCount: number,
  perSource: number,
  sources: SourcePool,
): DnsSourceTask[] {
  return Array.from({ length: sourceCount }, (_, n) => ({
    localAddress: sources.take(),
    names: cycle(keys, (n * perSource) % keys.length, perSource, (key) => `_iroh.${key}.${origin}`),
  }));
}

/**
 * As {@linkcode dnsTasks}, over DNS-over-HTTPS's GET form (RFC 8484,
 * `/dns-query?dns=<base64url>`) on one connection per source.
 */
export function dohTasks(
  keys: readonly string[],
  origin: string,
  sourceCount: number,
  perSource: number,
  sources: SourcePool,
): HttpSourceTask[] {
  return dnsTasks(keys, origin, sourceCount, perSource, sources).map((task) => ({
    localAddress: task.localAddress,
    requests: mapIterable(task.names, (name) => ({
      method: "GET" as const,
      path: `/dns-query?dns=${base64url(dnsTxtQuery(0, name))}`,
    })),
  }));
}

function* mapIterable<T, U>(items: Iterable<T>, map: (item: T) => U) {
  for (const item of items) yield map(item);
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** `count` items of `list` from `start` on, wrapping round, each mapped. */
function* cycle<T, U>(list: readonly T[], start: number, count: number, map: (item: T) => U) {
  for (let i = 0; i < count; i++) yield map(list[(start + i) % list.length]);
}
