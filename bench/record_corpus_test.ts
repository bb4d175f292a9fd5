import { equal, rejects } from "node:assert/strict";
import { endpointIdFromZ32, verifySignedPacket } from "../core/discovery/mod.ts";
import { MAX_CORPUS_RECORDS, signCorpus } from "./record_corpus.ts";

Deno.test("signCorpus() signs distinct keys' records that verify, across workers", async () => {
  const records = await signCorpus(5, 2);
  equal(records.length, 5);
  equal(new Set(records.map((record) => record.key)).size, 5);
  for (const record of records) {
    const opened = verifySignedPacket(endpointIdFromZ32(record.key), record.body);
    equal(opened.relayUrls[0], "https://relay.example/");
  }
});

Deno.test("signCorpus() refuses a count outside its bound", async () => {
  await rejects(signCorpus(0), RangeError);
  await rejects(signCorpus(MAX_CORPUS_RECORDS + 1), RangeError);
});
