/**
 * Keeps a server's discovery record fresh: publishes at start and every five
 * minutes (as iroh does; the record's TTL is 30 s, but relays keep it longer).
 * A failed publish is tried again sooner, backing off from 5 s to the
 * five-minute interval, so a server started before its network is up becomes
 * findable soon after the network is.
 * @module
 */
import type { SecretKey } from "../identity/mod.ts";
import { publishRecord } from "./pkarr_client.ts";
import type { PkarrRecord, SocketAddress } from "./signed_packet.ts";

/** How often the record is published again. */
export const REPUBLISH_INTERVAL_MS = 5 * 60_000;

/** The first retry after a failed publish; each further failure doubles it, up to {@linkcode REPUBLISH_INTERVAL_MS}. */
export const PUBLISH_RETRY_MS = 5_000;

/** Options of {@linkcode startPublishing}. */
export interface PublisherOptions {
  /** The key that signs (the server's identity). */
  secretKey: SecretKey;
  /** The pkarr relay, e.g. `http://127.0.0.1:3340/pkarr`. */
  pkarrUrl: string;
  /** Sent with each publish as `Authorization: Bearer` (a relay that wants its token). */
  accessToken?: string;
  /** What to publish now (called before each publish). */
  contents(): { relayUrls: string[]; addrs: SocketAddress[] };
  /** Told about each failed publish. */
  onError(error: Error): void;
  /** Told when a publish succeeds after one failed (the record is findable again). */
  onRecovered?(): void;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Injected for tests: the first retry after a failure (default {@linkcode PUBLISH_RETRY_MS}). */
  retryMs?: number;
}

/** A running publisher. */
export interface Publisher {
  /** Resolves after the first publish: `undefined` when it succeeded, else why it failed. */
  readonly first: Promise<Error | undefined>;
  /** Publishes again now (e.g. the relay or the addresses changed). */
  publish(): Promise<Error | undefined>;
  /** Stops publishing. */
  stop(): void;
}

/** Publishes the record now, every {@linkcode REPUBLISH_INTERVAL_MS}, and sooner after a failure. */
export function startPublishing(options: PublisherOptions): Publisher {
  let last = 0n;
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    const retryMs = options.retryMs ?? PUBLISH_RETRY_MS;
    const delay = failures === 0
      ? REPUBLISH_INTERVAL_MS
      : Math.min(REPUBLISH_INTERVAL_MS, retryMs * 2 ** (failures - 1));
    timer = setTimeout(publish, delay);
    Deno.unrefTimer(timer);
  };
  const publish = async (): Promise<Error | undefined> => {
    // Each record must be newer than the stored one, even within one microsecond.
    const now = BigInt(Date.now()) * 1000n;
    last = now > last ? now : last + 1n;
    const record: PkarrRecord = { ...options.contents(), timestampMicros: last };
    let outcome: Error | undefined;
    try {
      await publishRecord(options.secretKey, record, {
        relayUrl: options.pkarrUrl,
        accessToken: options.accessToken,
        fetch: options.fetch,
      });
      if (failures > 0 && !stopped) options.onRecovered?.();
      failures = 0;
    } catch (error) {
      outcome = error as Error;
      failures++;
      if (!stopped) options.onError(outcome);
    }
    schedule();
    return outcome;
  };
  return {
    first: publish(),
    publish,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
