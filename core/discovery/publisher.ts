/**
 * Keeps a server's discovery record fresh: publishes at start and every five
 * minutes (as iroh does; the record's TTL is 30 s, but relays keep it longer).
 * @module
 */
import type { SecretKey } from "../identity/mod.ts";
import { publishRecord } from "./pkarr_client.ts";
import type { PkarrRecord, SocketAddress } from "./signed_packet.ts";

/** How often the record is published again. */
export const REPUBLISH_INTERVAL_MS = 5 * 60_000;

/** Options of {@linkcode startPublishing}. */
export interface PublisherOptions {
  /** The key that signs (the server's identity). */
  secretKey: SecretKey;
  /** The pkarr relay, e.g. `http://127.0.0.1:3340/pkarr`. */
  pkarrUrl: string;
  /** What to publish now (called before each publish). */
  contents(): { relayUrls: string[]; addrs: SocketAddress[] };
  /** Told about each failed publish; the next attempt comes at the next interval. */
  onError(error: Error): void;
  /** Sent as `Authorization: Bearer`, for a pkarr relay that takes writes only with a token. */
  accessToken?: string;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

/** A running publisher. */
export interface Publisher {
  /** Resolves after the first publish (or its failure). */
  readonly first: Promise<void>;
  /** Publishes again now (e.g. the relay or the addresses changed). */
  publish(): Promise<void>;
  /** Stops publishing. */
  stop(): void;
}

/** Publishes the record now and every {@linkcode REPUBLISH_INTERVAL_MS}. */
export function startPublishing(options: PublisherOptions): Publisher {
  let last = 0n;
  const publish = async () => {
    // Each record must be newer than the stored one, even within one microsecond.
    const now = BigInt(Date.now()) * 1000n;
    last = now > last ? now : last + 1n;
    const record: PkarrRecord = { ...options.contents(), timestampMicros: last };
    try {
      await publishRecord(options.secretKey, record, {
        relayUrl: options.pkarrUrl,
        accessToken: options.accessToken,
        fetch: options.fetch,
      });
    } catch (error) {
      options.onError(error as Error);
    }
  };
  const timer = setInterval(publish, REPUBLISH_INTERVAL_MS);
  Deno.unrefTimer(timer);
  return { first: publish(), publish, stop: () => clearInterval(timer) };
}
