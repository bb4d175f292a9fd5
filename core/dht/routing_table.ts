/**
 * The routing table of BEP 5 (sans-IO): k-buckets over the 160-bit id space,
 * split when the bucket holding our own id is full, good, questionable and bad
 * nodes, and a replacement cache per bucket. Bounded: at most 160 buckets of
 * `k` nodes and `k` replacements each.
 * @module
 */
import type { DhtPeerAddress, NodeContact } from "./krpc.ts";
import { bigIntToId, bytesEqual, idToBigInt, NODE_ID_BYTES, toHex } from "./node_id.ts";

/** BEP 5's bucket size. */
export const K = 8;
/** A node silent this long is questionable (BEP 5: 15 minutes). */
export const QUESTIONABLE_AFTER_MS = 15 * 60_000;
/** Failed queries in a row that make a node bad. */
export const BAD_AFTER_FAILURES = 2;
const ID_SPACE = 1n << 160n;

/** A node in the table and what we know of it. */
export interface RoutingNode extends NodeContact {
  /** When it last answered one of our queries (ms), if ever. */
  lastResponseAt?: number;
  /** When it last sent us a query (ms), if ever. */
  lastQueryAt?: number;
  /** Queries in a row it did not answer. */
  failures: number;
}

/** What {@linkcode RoutingTable.observe} did. */
export interface ObserveResult {
  /**
   * added: now in the table; updated: was in it; replacement: kept in the
   * bucket's replacement cache; ignored: our own id, an address another id
   * holds, or an id seen at another address.
   */
  outcome: "added" | "updated" | "replacement" | "ignored";
  /** A questionable node to ping: if it fails, a replacement takes its place. */
  ping?: NodeContact;
}

interface Bucket {
  /** Inclusive lower bound of the ids it covers. */
  min: bigint;
  /** Exclusive upper bound. */
  max: bigint;
  nodes: RoutingNode[];
  replacements: RoutingNode[];
  /** Last time a node was added or answered (ms), for refreshes. */
  changedAt: number;
}

/** Options of a {@linkcode RoutingTable}. */
export interface RoutingTableOptions {
  /** Bucket size; default {@linkcode K}. */
  k?: number;
  /** Current time in ms; default `Date.now`. */
  now?: () => number;
}

/** BEP 5's routing table. */
export class RoutingTable {
  readonly #ownId: bigint;
  readonly #k: number;
  readonly #now: () => number;
  #buckets: Bucket[];
  /** Address ("host:port") to the id of the node the table holds there. */
  readonly #byAddress = new Map<string, string>();

  /** @param ownId Our node id (20 bytes). */
  constructor(ownId: Uint8Array, options: RoutingTableOptions = {}) {
    if (ownId.length !== NODE_ID_BYTES) throw new TypeError("Node id must be 20 bytes");
    this.#ownId = idToBigInt(ownId);
    this.#k = options.k ?? K;
    this.#now = options.now ?? Date.now;
    this.#buckets = [{
      min: 0n,
      max: ID_SPACE,
      nodes: [],
      replacements: [],
      changedAt: this.#now(),
    }];
  }

  /** Nodes in the table (replacements not counted). */
  get size(): number {
    return this.#buckets.reduce((sum, bucket) => sum + bucket.nodes.length, 0);
  }

  /** Buckets in the table (1 to 160). */
  get bucketCount(): number {
    return this.#buckets.length;
  }

  /**
   * Records that a node answered us (`response`) or queried us (`query`).
   * A query only fills free room; a response may also take a bad node's place.
   */
  observe(contact: NodeContact, source: "response" | "query"): ObserveResult {
    const now = this.#now();
    const id = idToBigInt(contact.id);
    if (contact.id.length !== NODE_ID_BYTES || id === this.#ownId) return { outcome: "ignored" };
    const addressKey = addressToKey(contact.address);
    const idKey = toHex(contact.id);
    const holder = this.#byAddress.get(addressKey);
    if (holder !== undefined && holder !== idKey) return { outcome: "ignored" };
    let bucket = this.#bucketFor(id);
    const existing = bucket.nodes.find((node) => bytesEqual(node.id, contact.id));
    if (existing) {
      if (addressToKey(existing.address) !== addressKey) return { outcome: "ignored" };
      this.#touch(existing, source, now);
      if (source === "response") bucket.changedAt = now;
      return { outcome: "updated" };
    }
    const node: RoutingNode = {
      id: Uint8Array.from(contact.id),
      address: contact.address,
      failures: 0,
    };
    this.#touch(node, source, now);
    while (bucket.nodes.length >= this.#k && this.#canSplit(bucket)) {
      this.#split(bucket);
      bucket = this.#bucketFor(id);
    }
    if (bucket.nodes.length < this.#k) {
      this.#insert(bucket, node, now);
      return { outcome: "added" };
    }
    const badIndex = bucket.nodes.findIndex((candidate) =>
      candidate.failures >= BAD_AFTER_FAILURES
    );
    if (badIndex >= 0 && source === "response") {
      this.#remove(bucket, badIndex);
      this.#insert(bucket, node, now);
      return { outcome: "added" };
    }
    if (holder === undefined) {
      bucket.replacements = bucket.replacements.filter((other) => !bytesEqual(other.id, node.id));
      bucket.replacements.push(node);
      if (bucket.replacements.length > this.#k) bucket.replacements.shift();
    }
    const questionable = bucket.nodes
      .filter((candidate) => !this.#isGood(candidate, now))
      .sort((a, b) => lastSeen(a) - lastSeen(b))[0];
    const result: ObserveResult = { outcome: "replacement" };
    if (questionable) result.ping = { id: questionable.id, address: questionable.address };
    return result;
  }

  /**
   * Records that a node did not answer a query. A bad node gives its place to
   * the newest replacement, if its bucket has one.
   */
  failed(id: Uint8Array): void {
    const bucket = this.#bucketFor(idToBigInt(id));
    bucket.replacements = bucket.replacements.filter((other) => !bytesEqual(other.id, id));
    const index = bucket.nodes.findIndex((node) => bytesEqual(node.id, id));
    if (index < 0) return;
    const node = bucket.nodes[index];
    node.failures++;
    if (node.failures < BAD_AFTER_FAILURES) return;
    let replacement = bucket.replacements.pop();
    while (replacement && this.#byAddress.has(addressToKey(replacement.address))) {
      replacement = bucket.replacements.pop();
    }
    if (replacement) {
      this.#remove(bucket, index);
      this.#insert(bucket, replacement, this.#now());
    }
  }

  /** Whether the table holds this id. */
  has(id: Uint8Array): boolean {
    return this.#bucketFor(idToBigInt(id)).nodes.some((node) => bytesEqual(node.id, id));
  }

  /** Up to `count` nodes closest to `target` by XOR, bad nodes left out. */
  closest(target: Uint8Array, count: number = this.#k): NodeContact[] {
    const goal = idToBigInt(target);
    return this.#buckets
      .flatMap((bucket) => bucket.nodes)
      .filter((node) => node.failures < BAD_AFTER_FAILURES)
      .map((node) => ({ node, distance: idToBigInt(node.id) ^ goal }))
      .sort((a, b) => (a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0))
      .slice(0, count)
      .map(({ node }) => ({ id: node.id, address: node.address }));
  }

  /** Every node, for status lines and tests. */
  nodes(): RoutingNode[] {
    return this.#buckets.flatMap((bucket) => bucket.nodes.map((node) => ({ ...node })));
  }

  /**
   * Targets to look up for buckets that have not changed in `staleAfterMs` (BEP
   * 5: 15 minutes): a random id inside each such bucket's range, at most `limit`.
   *
   * @param random Returns `n` random bytes.
   */
  refreshTargets(
    staleAfterMs: number,
    random: (n: number) => Uint8Array,
    limit = 8,
  ): Uint8Array[] {
    const now = this.#now();
    const targets: Uint8Array[] = [];
    for (const bucket of this.#buckets) {
      if (targets.length >= limit) break;
      if (now - bucket.changedAt < staleAfterMs) continue;
      bucket.changedAt = now;
      const span = bucket.max - bucket.min;
      targets.push(bigIntToId(bucket.min + idToBigInt(random(NODE_ID_BYTES)) % span));
    }
    return targets;
  }

  #isGood(node: RoutingNode, now: number): boolean {
    return node.failures === 0 && node.lastResponseAt !== undefined &&
      now - lastSeen(node) < QUESTIONABLE_AFTER_MS;
  }

  #touch(node: RoutingNode, source: "response" | "query", now: number): void {
    if (source === "response") {
      node.lastResponseAt = now;
      node.failures = 0;
    } else {
      node.lastQueryAt = now;
    }
  }

  #bucketFor(id: bigint): Bucket {
    // Few buckets (at most 160): a linear scan is enough.
    return this.#buckets.find((bucket) => id >= bucket.min && id < bucket.max)!;
  }

  #canSplit(bucket: Bucket): boolean {
    return this.#buckets.length < 160 && bucket.max - bucket.min > 1n &&
      this.#ownId >= bucket.min && this.#ownId < bucket.max;
  }

  #split(bucket: Bucket): void {
    const middle = bucket.min + (bucket.max - bucket.min) / 2n;
    const low: Bucket = {
      min: bucket.min,
      max: middle,
      nodes: [],
      replacements: [],
      changedAt: bucket.changedAt,
    };
    const high: Bucket = {
      min: middle,
      max: bucket.max,
      nodes: [],
      replacements: [],
      changedAt: bucket.changedAt,
    };
    for (const node of bucket.nodes) (idToBigInt(node.id) < middle ? low : high).nodes.push(node);
    for (const node of bucket.replacements) {
      (idToBigInt(node.id) < middle ? low : high).replacements.push(node);
    }
    const index = this.#buckets.indexOf(bucket);
    this.#buckets.splice(index, 1, low, high);
  }

  #insert(bucket: Bucket, node: RoutingNode, now: number): void {
    bucket.nodes.push(node);
    bucket.changedAt = now;
    this.#byAddress.set(addressToKey(node.address), toHex(node.id));
  }

  #remove(bucket: Bucket, index: number): void {
    const [node] = bucket.nodes.splice(index, 1);
    this.#byAddress.delete(addressToKey(node.address));
  }
}

function lastSeen(node: RoutingNode): number {
  return Math.max(node.lastResponseAt ?? -Infinity, node.lastQueryAt ?? -Infinity);
}

/** "host:port", a map key for an address. */
export function addressToKey(address: DhtPeerAddress): string {
  return `${address.hostname}:${address.port}`;
}
