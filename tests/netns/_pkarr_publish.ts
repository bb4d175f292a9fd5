// Publishes a discovery record for the key with seed SEED_HEX (32 bytes, hex) to a
// pkarr relay, naming RELAY_URL as its only relay: a test holds an iroh endpoint's key
// and signs its record for it.
//
//   deno run --allow-net _pkarr_publish.ts PKARR_URL RELAY_URL SEED_HEX
import { publishRecord } from "../../core/discovery/mod.ts";
import { SecretKey } from "../../core/identity/mod.ts";

const [pkarrUrl, relayUrl, seedHex] = Deno.args;
const seed = Uint8Array.from(seedHex.match(/../g)!.map((byte) => parseInt(byte, 16)));
await publishRecord(new SecretKey(seed), {
  relayUrls: [relayUrl],
  addrs: [],
  timestampMicros: BigInt(Date.now()) * 1000n,
}, { relayUrl: pkarrUrl });
console.log("published");
