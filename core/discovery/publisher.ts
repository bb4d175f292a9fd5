/**
 * Keeps a server's discovery record fresh at one destination: a pkarr relay
 * (at start and every five minutes, as iroh does; the record's TTL is 30 s,
 * but relays keep it longer) or the Mainline DHT (every half hour: its nodes
 * keep an item two hours, and each put is a lookup of its own). A failed
 * publish is tried again sooner, backing off from 5 s to the interval, so a
 * server started before its network is up becomes findable soon after the
 * network is.
 * @module
 */
import type { SecretKey } from "../identity/mod.ts";
import { publishRecordToDht, type RecordDht } from "./dht_records.ts";
import { publishRecord } from "./pkarr_client.ts";
import type { PkarrRecord, SocketAddress } from "./signed_packet.ts";

/** How often the record is published again to a pkarr relay. */
export const REPUBLISH_INTERVAL_MS = 5 * 60_000;

/** How often the record is published again to the DHT. */
export const DHT_REPUBLISH_INTERVAL_MS = 30 * 60_000;

/** Where a publisher publishes. */
export type RecordDestination =
  | {
    /** A pkarr relay, e.g. `http://127.0.0.1:3340/pkarr`. */
    pkarrUrl: string;
    /** Sent with each publish as `Authorization: Bearer` (a relay that wants its token). */
    accessToken?: string;
    /** Injected for tests. */
    fetch?: typeof fetch;
  }
  | {
    /** The Mainline DHT, through this node. */
    dht: RecordDht;
  };

/** The first retry after a failed publish; each further failure doubles it, up to {@linkcode REPUBLISH_INTERVAL_MS}. */
export const PUBLISH_RETRY_MS = 5_000;

/** Options of {@linkcode startPublishing}. */
export interface PublisherOptions {
  /** The key that signs (the server's identity). */
  secretKey: SecretKey;
  /** Where to publish. */
  destination: RecordDestination;
  /** What to publish now (called before each publish). */
  contents(): { relayUrls: string[]; addrs: SocketAddress[] };
  /** Told about each failed publish. */
  onError(error: Error): void;
  /** Told when a publish succeeds after one failed (the record is findable again). */
  onRecovered?(): void;
  /** Injected for tests: the first retry after a failure (default {@linkcode PUBLISH_RETRY_MS}). */
  retryMs?: number;
}

/** A running publisher. */
export interface Publisher {
  /** Resolves after the first publish: `undefined` when it succeeded, else why it failed. */
  readonly first: Promise<Error | undefined>;
  /** Publishes again now (e.g. the relay or the addresses changed). */
  publish(): Promise<Error | undefined>;
  /** The last publish that ended: when (ms since the epoch), and why it failed if it did. */
  readonly last: { at: number; error?: Error } | undefined;
  /** Stops publishing. */
  stop(): void;
}

/**
 * Publishes the record now, every {@linkcode REPUBLISH_INTERVAL_MS} (to the DHT
 * every {@linkcode DHT_REPUBLISH_INTERVAL_MS}), and sooner after a failure.
 */
export function startPublishing(options: PublisherOptions): Publisher {
  const destination = options.destination;
  const intervalMs = "dht" in destination ? DHT_REPUBLISH_INTERVAL_MS : REPUBLISH_INTERVAL_MS;
  let last = 0n;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let lastOutcome: { at: number; error?: Error } | undefined;
  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    const retryMs = options.retryMs ?? PUBLISH_RETRY_MS;
    const delay = failures === 0 ? intervalMs : Math.min(intervalMs, retryMs * 2 ** (failures - 1));
    timer = setTimeout(publish, delay);
    Deno.unrefTimer(timer);
  };
  const publish = async (): Promise<Error | undefined> => {
    // Each record must be newer than the stored one, even within one microsecond.
    const now = BigInt(Date.now()) * 1000n;
    last = now > last ? now : last + 1n;
    const record: PkarrRecord = { ...options.contents(), timestampMicros: last };
    let outcome: Error | undefined;
    const at = Date.now();
    try {
      if ("dht" in destination) {
        await publishRecordToDht(destination.dht, options.secretKey, record);
      } else {
        await publishRecord(options.secretKey, record, {
          relayUrl: destination.pkarrUrl,
          accessToken: destination.accessToken,
          fetch: destination.fetch,
        });
      }
      if (failures > 0 && !stopped) options.onRecovered?.();
      failures = 0;
    } catch (error) {
      outcome = error as Error;
      failures++;
      if (!stopped) options.onError(outcome);
    }
    lastOutcome = { at, error: outcome };
    schedule();
    return outcome;
  };
  return {
    first: publish(),
    publish,
    get last() {
      return lastOutcome;
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
