/**
 * Worker of `record_corpus.ts`: generates keys and signs one record each, so
 * the corpus is signed on every core before the load starts.
 * @module
 */
/// <reference lib="deno.worker" />
import { endpointIdToZ32, signRecord } from "../core/discovery/mod.ts";
import { SecretKey } from "../core/identity/mod.ts";

/** What the worker is asked: how many records, signed at which time. */
export interface SignRequest {
  /** Records to sign. */
  count: number;
  /** Their timestamp, µs since the epoch. */
  timestampMicros: bigint;
}

/** What it answers: the keys (z32) and the bodies, concatenated with their lengths. */
export interface SignedBatch {
  /** z32 keys, one per record. */
  keys: string[];
  /** The bodies back to back. */
  bodies: Uint8Array;
  /** Each body's length, in order. */
  lengths: number[];
}

self.onmessage = (event: MessageEvent<SignRequest>) => {
  const { count, timestampMicros } = event.data;
  const keys: string[] = [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const key = SecretKey.generate();
    keys.push(endpointIdToZ32(key.endpointId));
    // The shape iroh publishes: one relay URL and one direct address (~215 bytes).
    parts.push(signRecord(key, {
      relayUrls: ["https://relay.example/"],
      addrs: [{ hostname: "192.0.2.1", port: 4433 }],
      timestampMicros,
    }));
  }
  const bodies = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bodies.set(part, offset);
    offset += part.length;
  }
  const batch: SignedBatch = { keys, bodies, lengths: parts.map((part) => part.length) };
  self.postMessage(batch, [bodies.buffer]);
};
