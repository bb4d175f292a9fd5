/**
 * An in-memory stand-in for a DHT node, for tests: it keeps the newest item
 * per key, as the DHT's closest nodes would, and can be told to fail.
 * @module
 */
import type { RecordDht, RecordItem } from "./dht_records.ts";

/** A {@linkcode RecordDht} over a map; `down` makes every call fail as an unreachable DHT. */
export class MemoryRecordDht implements RecordDht {
  readonly items: Map<string, RecordItem> = new Map();
  down = false;
  puts = 0;
  gets = 0;

  getMutable(publicKey: Uint8Array): Promise<RecordItem | undefined> {
    this.gets++;
    if (this.down) return Promise.reject(new Error("no DHT node answered"));
    return Promise.resolve(this.items.get(keyOf(publicKey)));
  }

  putMutable(item: RecordItem): Promise<{ stored: number }> {
    this.puts++;
    if (this.down) {
      return Promise.reject(new Error("Cannot publish to the DHT: no DHT node answered"));
    }
    const held = this.items.get(keyOf(item.publicKey));
    if (!held || held.seq < item.seq) this.items.set(keyOf(item.publicKey), item);
    return Promise.resolve({ stored: 8 });
  }
}

function keyOf(publicKey: Uint8Array): string {
  return Array.from(publicKey, (b) => b.toString(16).padStart(2, "0")).join("");
}
