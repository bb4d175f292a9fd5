/**
 * Many distinct signed pkarr records (fresh keys, iroh's record shape), signed
 * before a load starts so that signing is not what the load measures; in
 * parallel workers, one per core.
 * @module
 */
import type { SignedBatch, SignRequest } from "./_record_signer_worker.ts";

/** One record as the load generator sends it. */
export interface CorpusRecord {
  /** The key, z32 (the path of `/pkarr/<z32>`). */
  key: string;
  /** The signed packet (the PUT body). */
  body: Uint8Array;
}

/** Most records one corpus holds: ~0.5 ms of signing each, so a minute of work on one core. */
export const MAX_CORPUS_RECORDS = 200_000;

/**
 * Signs `count` records with `count` fresh keys, timestamped now.
 * @param count How many, 1..{@linkcode MAX_CORPUS_RECORDS}.
 * @param workers Parallel workers; default the core count.
 * @throws {RangeError} for a count out of range.
 * @example
 * ```ts
 * const records = await signCorpus(10);
 * records[0].key.length; // 52
 * ```
 */
export async function signCorpus(
  count: number,
  workers = navigator.hardwareConcurrency || 1,
): Promise<CorpusRecord[]> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_CORPUS_RECORDS) {
    throw new RangeError(`Cannot sign ${count} records: not in 1..${MAX_CORPUS_RECORDS}`);
  }
  const timestampMicros = BigInt(Date.now()) * 1000n;
  const lanes = Math.min(workers, count);
  const shares = Array.from(
    { length: lanes },
    (_, i) => Math.floor(count / lanes) + (i < count % lanes ? 1 : 0),
  );
  const batches = await Promise.all(
    shares.map((share) => signInWorker({ count: share, timestampMicros })),
  );
  const records: CorpusRecord[] = [];
  for (const batch of batches) {
    let offset = 0;
    batch.keys.forEach((key, i) => {
      records.push({ key, body: batch.bodies.subarray(offset, offset + batch.lengths[i]) });
      offset += batch.lengths[i];
    });
  }
  return records;
}

function signInWorker(request: SignRequest): Promise<SignedBatch> {
  const worker = new Worker(new URL("./_record_signer_worker.ts", import.meta.url), {
    type: "module",
  });
  return new Promise<SignedBatch>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<SignedBatch>) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`record signer failed: ${event.message}`));
    };
    worker.postMessage(request);
  }).finally(() => worker.terminate());
}
