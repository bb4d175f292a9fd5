// Private to tests/harness: the event storage behind the test relay
// (relay_process.ts). @nostr-relay/core does the relay's work (validation,
// signatures, OK, subscriptions, broadcast) and leaves storage to an
// EventRepository; the published SQLite one needs a native addon
// (better-sqlite3), so the test relay keeps events in memory. Matching is nostr-tools'
// matchFilter, the same code the clients under test use.
import { type Event, EventRepository, type Filter } from "@nostr-relay/common";
import { matchFilter } from "nostr-tools/filter";

/** Events kept by default: enough for any test, bounded so a runaway test cannot grow memory. */
const DEFAULT_MAX_EVENTS = 10_000;

/**
 * Regular events in memory, newest first on queries (NIP-01). Replaceable and
 * addressable events are stored like regular ones (nostr mode publishes neither);
 * ephemeral ones never reach a repository (core broadcasts them only).
 */
export class MemoryEventStore extends EventRepository {
  readonly #events = new Map<string, Event>();
  readonly #maxEvents: number;

  /** @param maxEvents most events kept (the oldest stored go first) */
  constructor(maxEvents = DEFAULT_MAX_EVENTS) {
    super();
    this.#maxEvents = maxEvents;
  }

  /** No NIP-50 search. */
  isSearchSupported(): boolean {
    return false;
  }

  /** Stores the event; a second copy of a known id is a duplicate (not broadcast again). */
  upsert(event: Event): { isDuplicate: boolean } {
    if (this.#events.has(event.id)) return { isDuplicate: true };
    this.#events.set(event.id, event);
    if (this.#events.size > this.#maxEvents) {
      this.#events.delete(this.#events.keys().next().value!);
    }
    return { isDuplicate: false };
  }

  /** Stored events matching the filter, newest first, at most `filter.limit`. */
  find(filter: Filter): Event[] {
    const found = [...this.#events.values()]
      // @nostr-relay/common's Filter and nostr-tools' differ only in how tag keys are typed.
      .filter((event) => matchFilter(filter as Parameters<typeof matchFilter>[0], event))
      .sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
    return filter.limit === undefined ? found : found.slice(0, filter.limit);
  }

  /** Drops every event. */
  destroy(): Promise<void> {
    this.#events.clear();
    return Promise.resolve();
  }
}
