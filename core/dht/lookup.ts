/**
 * The iterative lookup of BEP 5 as a state machine (sans-IO): it says which
 * nodes to query next (at most `alpha` in flight, only among the `k` closest
 * known), takes their answers and failures, expires queries past their timeout,
 * and finishes when the `k` closest live nodes have all answered, or at its
 * bounds on queries and time. find_node, get and put (through get) use it.
 * @module
 */
import type { DhtPeerAddress, NodeContact } from "./krpc.ts";
import { bytesEqual, idToBigInt } from "./node_id.ts";
import { addressToKey, K } from "./routing_table.ts";

/** Bounds of a lookup. */
export interface LookupOptions {
  /** Closest nodes that must answer; default {@linkcode K}. */
  k?: number;
  /** Queries in flight at once; default 3. */
  alpha?: number;
  /** A query unanswered this long counts as failed (ms); default 2000. */
  queryTimeoutMs?: number;
  /** Most queries sent in all; default 64. */
  maxQueries?: number;
  /** Whole lookup's time (ms); default 10000. */
  timeoutMs?: number;
  /** Most candidates remembered (the farthest unqueried are dropped); default 256. */
  maxCandidates?: number;
  /** Never queried: our own id. */
  excludeId?: Uint8Array;
}

/** A node to start from: bootstrap addresses have no id yet. */
export interface LookupSeed {
  /** The node id when known. */
  id?: Uint8Array;
  /** Where to send the query. */
  address: DhtPeerAddress;
}

/** A node that answered, with the token it gave (get_peers, get). */
export interface LookupResponder {
  /** The node. */
  contact: NodeContact;
  /** Its write token, if it gave one. */
  token?: Uint8Array;
}

type CandidateState = "fresh" | "in-flight" | "responded" | "failed";

interface Candidate {
  id?: Uint8Array;
  distance?: bigint;
  address: DhtPeerAddress;
  state: CandidateState;
  sentAt?: number;
  token?: Uint8Array;
}

/** One iterative lookup towards a target. */
export class Lookup {
  readonly target: Uint8Array;
  readonly #goal: bigint;
  readonly #k: number;
  readonly #alpha: number;
  readonly #queryTimeoutMs: number;
  readonly #maxQueries: number;
  readonly #maxCandidates: number;
  readonly #deadline: number;
  readonly #excludeId?: Uint8Array;
  readonly #candidates = new Map<string, Candidate>();
  #sent = 0;
  #stopped = false;

  /**
   * @param target The 20-byte id looked for.
   * @param seeds Where to start: the table's closest nodes, or bootstrap addresses.
   * @param now The current time (ms).
   */
  constructor(
    target: Uint8Array,
    seeds: readonly LookupSeed[],
    now: number,
    options: LookupOptions = {},
  ) {
    this.target = target;
    this.#goal = idToBigInt(target);
    this.#k = options.k ?? K;
    this.#alpha = options.alpha ?? 3;
    this.#queryTimeoutMs = options.queryTimeoutMs ?? 2000;
    this.#maxQueries = options.maxQueries ?? 64;
    this.#maxCandidates = options.maxCandidates ?? 256;
    this.#deadline = now + (options.timeoutMs ?? 10_000);
    this.#excludeId = options.excludeId;
    for (const seed of seeds) this.#add(seed);
  }

  /** Queries sent so far. */
  get queriesSent(): number {
    return this.#sent;
  }

  /** Nodes remembered (at most `maxCandidates`). */
  get candidateCount(): number {
    return this.#candidates.size;
  }

  /** Queries sent and not yet answered, failed or expired. */
  get inFlight(): number {
    let count = 0;
    for (const candidate of this.#candidates.values()) if (candidate.state === "in-flight") count++;
    return count;
  }

  /** Whether the lookup is over (converged, stopped, or out of queries or time). */
  finished(now: number): boolean {
    if (this.#stopped || now >= this.#deadline) return true;
    const inFlight = this.inFlight;
    if (this.#sent >= this.#maxQueries) return inFlight === 0;
    return inFlight === 0 &&
      this.#closestLive().every((candidate) => candidate.state === "responded");
  }

  /** Ends the lookup now (e.g. the first item was found). */
  stop(): void {
    this.#stopped = true;
  }

  /** When {@linkcode tick} should run next: the earliest query expiry or the deadline. */
  nextWakeAt(): number {
    let wake = this.#deadline;
    for (const candidate of this.#candidates.values()) {
      if (candidate.state === "in-flight") {
        wake = Math.min(wake, candidate.sentAt! + this.#queryTimeoutMs);
      }
    }
    return wake;
  }

  /** Marks queries older than the per-query timeout as failed. */
  tick(now: number): void {
    for (const candidate of this.#candidates.values()) {
      if (candidate.state === "in-flight" && now - candidate.sentAt! >= this.#queryTimeoutMs) {
        candidate.state = "failed";
      }
    }
  }

  /** The nodes to query now (marked in flight); empty when none may be sent. */
  next(now: number): LookupSeed[] {
    if (this.finished(now)) return [];
    const slots = Math.min(this.#alpha - this.inFlight, this.#maxQueries - this.#sent);
    const picked: LookupSeed[] = [];
    for (const candidate of this.#closestLive()) {
      if (picked.length >= slots) break;
      if (candidate.state !== "fresh") continue;
      candidate.state = "in-flight";
      candidate.sentAt = now;
      this.#sent++;
      picked.push(
        candidate.id
          ? { id: candidate.id, address: candidate.address }
          : { address: candidate.address },
      );
    }
    return picked;
  }

  /**
   * Takes an answer: the responder's id, the closer nodes it named and its token.
   * Answers from addresses never queried are ignored.
   */
  responded(
    address: DhtPeerAddress,
    id: Uint8Array,
    nodes: readonly NodeContact[],
    token?: Uint8Array,
  ): void {
    const candidate = this.#candidates.get(addressToKey(address));
    if (!candidate || candidate.state === "responded" || candidate.state === "fresh") return;
    if (candidate.id && !bytesEqual(candidate.id, id)) {
      candidate.state = "failed"; // another node answers at that address now
      return;
    }
    if (this.#excludeId && bytesEqual(id, this.#excludeId)) {
      candidate.state = "failed"; // a peer claiming our own id
      return;
    }
    candidate.id = id;
    candidate.distance = idToBigInt(id) ^ this.#goal;
    candidate.state = "responded";
    if (token) candidate.token = token;
    for (const node of nodes) this.#add(node);
  }

  /** Marks a query as failed (an error answer, a send failure). */
  failed(address: DhtPeerAddress): void {
    const candidate = this.#candidates.get(addressToKey(address));
    if (candidate && candidate.state === "in-flight") candidate.state = "failed";
  }

  /** The `k` closest nodes that answered, closest first, with their tokens. */
  closestResponders(): LookupResponder[] {
    return this.#sorted()
      .filter((candidate) => candidate.state === "responded")
      .slice(0, this.#k)
      .map((candidate) => {
        const responder: LookupResponder = {
          contact: { id: candidate.id!, address: candidate.address },
        };
        if (candidate.token) responder.token = candidate.token;
        return responder;
      });
  }

  #add(seed: LookupSeed): void {
    const key = addressToKey(seed.address);
    if (this.#candidates.has(key)) return;
    if (seed.id && this.#excludeId && bytesEqual(seed.id, this.#excludeId)) return;
    const candidate: Candidate = { address: seed.address, state: "fresh" };
    if (seed.id) {
      candidate.id = seed.id;
      candidate.distance = idToBigInt(seed.id) ^ this.#goal;
    }
    this.#candidates.set(key, candidate);
    if (this.#candidates.size > this.#maxCandidates) {
      const farthestFresh = this.#sorted().reverse().find((other) => other.state === "fresh");
      if (farthestFresh) this.#candidates.delete(addressToKey(farthestFresh.address));
    }
  }

  /** Candidates without id (bootstrap addresses) first, then by distance. */
  #sorted(): Candidate[] {
    return [...this.#candidates.values()].sort((a, b) => {
      if (a.distance === undefined || b.distance === undefined) {
        return (a.distance === undefined ? 0 : 1) - (b.distance === undefined ? 0 : 1);
      }
      return a.distance < b.distance ? -1 : a.distance > b.distance ? 1 : 0;
    });
  }

  /** The `k` closest candidates that have not failed. */
  #closestLive(): Candidate[] {
    return this.#sorted().filter((candidate) => candidate.state !== "failed").slice(0, this.#k);
  }
}
