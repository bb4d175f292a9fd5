/**
 * A Mainline DHT node (the I/O around the sans-IO parts): one UDP socket,
 * transaction ids and per-query timeouts, answers to the six queries of a full
 * node, the routing table kept fresh, and BEP 44 get and put of mutable items
 * through iterative lookups.
 *
 * Announced peers are kept (bounded, see peer_store.ts) and returned by
 * get_peers. Read-only nodes (BEP 43) answer no queries and store nothing for
 * others.
 * @module
 */
import { lookup } from "node:dns/promises";
import { isLoopbackAddress } from "../net/mod.ts";
import { decodeBencode, encodeBencode } from "./bencode.ts";
import { type DhtSocket, listenUdp, MAX_DATAGRAM_BYTES } from "./dht_socket.ts";
import { ItemStore } from "./item_store.ts";
import {
  decodeKrpc,
  type DhtPeerAddress,
  encodeError,
  encodeQuery,
  encodeResponse,
  KrpcDecodeError,
  KrpcErrorCode,
  type KrpcMessage,
  type KrpcQuery,
  type KrpcResponseBody,
  type NodeContact,
} from "./krpc.ts";
import { Lookup } from "./lookup.ts";
import {
  checkEncodedMutableItem,
  checkMutableItem,
  type MutableItem,
  mutableTarget,
} from "./mutable_item.ts";
import { bytesEqual, NODE_ID_BYTES, toHex } from "./node_id.ts";
import { addressToKey, K, RoutingTable } from "./routing_table.ts";
import { PeerStore } from "./peer_store.ts";
import { answerQuery, type AnswerState } from "./query_answers.ts";
import { SourceLimiter } from "./source_limiter.ts";
import { WriteTokens } from "./write_token.ts";

/** A DHT operation that failed; the message says what to check next. */
export class DhtError extends Error {
  /** Always "DhtError". */
  override name = "DhtError";
}

/** Options of {@linkcode startDhtNode}. */
export interface DhtNodeOptions {
  /** Nodes to join through (`HOST:PORT`; host names are resolved once, IPv4). */
  bootstrap: readonly DhtPeerAddress[];
  /** Address to bind; default 0.0.0.0:0. */
  bind?: DhtPeerAddress;
  /** The socket to use (tests: an in-memory network); default a UDP socket on `bind`. */
  socket?: DhtSocket;
  /** BEP 43: query with `ro=1`, answer no queries, stay out of others' tables. */
  readOnly?: boolean;
  /** Receives one line per notable event (verbose output). */
  log?: (line: string) => void;
  /** Our node id (20 bytes); default random. */
  nodeId?: Uint8Array;
  /** Current time in ms; default `Date.now`. */
  now?: () => number;
  /** Returns `n` random bytes; default `crypto.getRandomValues`. */
  random?: (n: number) => Uint8Array;
  /** Resolves a host name to IPv4 addresses; default the system's (getaddrinfo: /etc/hosts counts). */
  resolveHost?: (hostname: string) => Promise<string[]>;
  /** A query unanswered this long has failed (ms); default 2000. */
  queryTimeoutMs?: number;
  /** Bound of one lookup, so of bootstrap, get and put each (ms); default 5000. */
  lookupTimeoutMs?: number;
  /** Most queries one lookup sends; default 64. */
  maxLookupQueries?: number;
  /** Most of our queries awaiting an answer at once; default 256. */
  maxPendingQueries?: number;
  /** Buckets untouched this long are refreshed (ms); default 15 minutes (BEP 5). */
  refreshIntervalMs?: number;
  /** Queries answered per source IP: sustained rate and burst; default 20/s, 40. */
  rateLimit?: { perSecond: number; burst: number };
  /** Bounds of what we store for others: items (default 2000), bytes (2 MiB), lifetime (2 h). */
  store?: { maxItems?: number; maxBytes?: number; ttlMs?: number };
}

/** A running DHT node. */
export interface DhtNode {
  /** The address the socket is bound to. */
  readonly localAddress: DhtPeerAddress;
  /** Our node id. */
  readonly id: Uint8Array;
  /** Nodes in the routing table. */
  readonly size: number;
  /**
   * find_node on our own id through the bootstrap nodes; resolves with the table size
   * (0 when no node answered). Every operation rejects with the signal's reason when it
   * aborts, and with {@linkcode DhtError} when the node closes meanwhile.
   */
  bootstrap(signal?: AbortSignal): Promise<number>;
  /** Verified item with the highest seq found (or the first, with `first: true`), else undefined. */
  getMutable(
    publicKey: Uint8Array,
    options?: { salt?: Uint8Array; signal?: AbortSignal; first?: boolean },
  ): Promise<MutableItem | undefined>;
  /** Stores at the closest nodes that gave tokens; resolves with how many accepted it; throws DhtError if none. */
  putMutable(item: MutableItem, options?: { signal?: AbortSignal }): Promise<{ stored: number }>;
  /** Closes the socket and ends every lookup. */
  close(): Promise<void>;
}

/**
 * Binds the socket and starts answering; call {@linkcode DhtNode.bootstrap} to join.
 *
 * @throws {DhtError} when the socket cannot be bound (the promise rejects).
 * @example
 * ```ts ignore
 * const node = await startDhtNode({ bootstrap: [{ hostname: "127.0.0.1", port: 6881 }] });
 * await node.bootstrap();
 * const item = await node.getMutable(publicKey);
 * await node.close();
 * ```
 */
export function startDhtNode(options: DhtNodeOptions): Promise<DhtNode> {
  const bind = options.bind ?? { hostname: "0.0.0.0", port: 0 };
  const problem = optionsProblem(options);
  if (problem) return Promise.reject(new DhtError(`Cannot start the DHT node: ${problem}`));
  let socket: DhtSocket;
  try {
    socket = options.socket ?? listenUdp(bind);
  } catch (error) {
    return Promise.reject(
      new DhtError(
        `Cannot bind the DHT socket to ${bind.hostname}:${bind.port}: ${
          (error as Error).message
        }; choose another address or port`,
      ),
    );
  }
  return Promise.resolve(new MainlineNode(socket, options));
}

/** What is wrong with the options' numbers, if anything. */
function optionsProblem(options: DhtNodeOptions): string | undefined {
  const positive = {
    queryTimeoutMs: options.queryTimeoutMs,
    lookupTimeoutMs: options.lookupTimeoutMs,
    maxLookupQueries: options.maxLookupQueries,
    maxPendingQueries: options.maxPendingQueries,
    refreshIntervalMs: options.refreshIntervalMs,
    "rateLimit.perSecond": options.rateLimit?.perSecond,
    "rateLimit.burst": options.rateLimit?.burst,
    "store.maxItems": options.store?.maxItems,
    "store.maxBytes": options.store?.maxBytes,
    "store.ttlMs": options.store?.ttlMs,
  };
  for (const [name, value] of Object.entries(positive)) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      return `${name} must be a positive number, got ${value}`;
    }
  }
  if (options.nodeId && options.nodeId.length !== NODE_ID_BYTES) {
    return `the node id must be ${NODE_ID_BYTES} bytes, got ${options.nodeId.length}`;
  }
  for (const address of options.bootstrap) {
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
      return `bootstrap port ${address.port} of ${address.hostname} is not in 1..65535`;
    }
  }
  return undefined;
}

interface PendingQuery {
  address: DhtPeerAddress;
  resolve: (message: KrpcMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Wakes a lookup's loop; a notification before the wait is not lost. */
class Wakeup {
  #flag = false;
  #resolve?: () => void;
  notify(): void {
    this.#flag = true;
    this.#resolve?.();
  }
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#flag || signal?.aborted) {
      this.#flag = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#resolve = undefined;
        this.#flag = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done);
      this.#resolve = done;
    });
  }
}

/** The system resolver's IPv4 answers, as every other program on the machine resolves. */
async function systemResolveIpv4(host: string): Promise<string[]> {
  const answers = await lookup(host, { all: true, family: 4 });
  return answers.map((answer) => answer.address);
}

/**
 * Whose budget a query spends: its IP, or on loopback its IP and port, since
 * every local process (a private DHT on one machine) shares 127.0.0.1 and a
 * local process could do worse than flood anyway.
 */
function sourceKey(from: DhtPeerAddress): string {
  return isLoopbackAddress(from.hostname) ? `${from.hostname}:${from.port}` : from.hostname;
}

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

class MainlineNode implements DhtNode {
  readonly id: Uint8Array;
  readonly #socket: DhtSocket;
  readonly #options: DhtNodeOptions;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #log: (line: string) => void;
  readonly #table: RoutingTable;
  readonly #store: ItemStore;
  readonly #peers: PeerStore;
  readonly #answerState: AnswerState;
  readonly #limiter: SourceLimiter;
  readonly #pending = new Map<string, PendingQuery>();
  readonly #pinging = new Set<string>();
  readonly #lookups = new Set<Promise<unknown>>();
  readonly #queryTimeoutMs: number;
  readonly #lookupTimeoutMs: number;
  readonly #maxPending: number;
  readonly #closeController = new AbortController();
  readonly #receiving: Promise<void>;
  readonly #refreshTimer: ReturnType<typeof setInterval>;
  #nextTransaction: number;
  #bootstrapAddresses?: Promise<DhtPeerAddress[]>;
  #closed = false;
  #rejoining = false;

  constructor(socket: DhtSocket, options: DhtNodeOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
    this.#log = options.log ?? (() => {});
    this.id = options.nodeId ? Uint8Array.from(options.nodeId) : this.#random(NODE_ID_BYTES);
    this.#table = new RoutingTable(this.id, { now: this.#now });
    this.#store = new ItemStore({ ...options.store, now: this.#now });
    this.#peers = new PeerStore({ now: this.#now });
    this.#answerState = {
      table: this.#table,
      items: this.#store,
      peers: this.#peers,
      tokens: new WriteTokens(this.#random, this.#now),
    };
    this.#limiter = new SourceLimiter({ ...options.rateLimit, now: this.#now });
    this.#queryTimeoutMs = options.queryTimeoutMs ?? 2000;
    this.#lookupTimeoutMs = options.lookupTimeoutMs ?? 5000;
    this.#maxPending = options.maxPendingQueries ?? 256;
    const seed = this.#random(2);
    this.#nextTransaction = (seed[0] << 8) | seed[1];
    this.#receiving = this.#receiveLoop();
    const refreshMs = options.refreshIntervalMs ?? 15 * 60_000;
    this.#refreshTimer = setInterval(() => this.#refresh(refreshMs), Math.min(refreshMs, 60_000));
  }

  get localAddress(): DhtPeerAddress {
    return this.#socket.localAddress;
  }

  get size(): number {
    return this.#table.size;
  }

  async bootstrap(signal?: AbortSignal): Promise<number> {
    const addresses = await this.#resolveBootstrap();
    const seeds = [
      ...addresses.map((address) => ({ address })),
      ...this.#table.closest(this.id, K),
    ];
    const lookup = await this.#track(
      this.#runLookup(this.id, { method: "find_node", target: this.id }, seeds, signal),
    );
    const size = this.#table.size;
    this.#log(
      `DHT bootstrap: ${lookup.closestResponders().length} nodes answered of ${lookup.queriesSent} asked, ${size} in the routing table`,
    );
    return size;
  }

  async getMutable(
    publicKey: Uint8Array,
    options: { salt?: Uint8Array; signal?: AbortSignal; first?: boolean } = {},
  ): Promise<MutableItem | undefined> {
    if (publicKey.length !== 32) {
      throw new DhtError("Cannot look up a DHT item: the key is not 32 bytes");
    }
    const target = mutableTarget(publicKey, options.salt);
    let best: MutableItem | undefined;
    const lookup = await this.#track(this.#runLookup(
      target,
      { method: "get", target },
      await this.#seedsFor(target),
      options.signal,
      (body, lookup) => {
        const item = this.#verifiedItem(body, publicKey, options.salt);
        if (!item) return;
        if (!best || item.seq > best.seq) best = item;
        if (options.first) lookup.stop();
      },
    ));
    this.#log(
      best
        ? `DHT get ${toHex(target)}: seq ${best.seq} from ${lookup.queriesSent} queries`
        : `DHT get ${toHex(target)}: no item after ${lookup.queriesSent} queries`,
    );
    return best;
  }

  async putMutable(
    item: MutableItem,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ stored: number }> {
    const problem = checkMutableItem(item);
    if (problem) throw new DhtError(`Cannot publish to the DHT: ${problem.message}`);
    const target = mutableTarget(item.publicKey, item.salt);
    const lookup = await this.#track(
      this.#runLookup(
        target,
        { method: "get", target },
        await this.#seedsFor(target),
        options.signal,
      ),
    );
    const holders = lookup.closestResponders().filter((responder) => responder.token);
    if (holders.length === 0) {
      throw new DhtError(
        `Cannot publish to the DHT: no node answered with a write token (${lookup.queriesSent} asked); check the bootstrap nodes and that UDP reaches them`,
      );
    }
    options.signal?.throwIfAborted();
    const encodedValue = encodeBencode(item.value);
    const refusals: string[] = [];
    const results = await Promise.all(holders.map(async ({ contact, token }) => {
      try {
        const answer = await this.#query(contact.address, {
          method: "put",
          token: token!,
          encodedValue,
          publicKey: item.publicKey,
          seq: item.seq,
          signature: item.signature,
          ...(item.salt && item.salt.length > 0 ? { salt: item.salt } : {}),
        }, contact.id);
        if (answer.type === "response") return true;
        if (answer.type === "error") refusals.push(`${answer.code} ${answer.message}`);
      } catch {
        // no answer: counted as not stored
      }
      return false;
    }));
    const stored = results.filter(Boolean).length;
    this.#log(`DHT put ${toHex(target)} seq ${item.seq}: stored by ${stored} of ${holders.length}`);
    if (stored === 0) {
      throw new DhtError(
        `Cannot publish to the DHT: none of ${holders.length} nodes stored the item${
          refusals.length > 0 ? ` (refused: ${refusals[0]})` : " (no answers)"
        }`,
      );
    }
    return { stored };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeController.abort();
    clearInterval(this.#refreshTimer);
    this.#socket.close();
    for (const [key, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(key);
      pending.reject(new DhtError("DHT node closed"));
    }
    await this.#receiving;
    await Promise.allSettled([...this.#lookups]);
  }

  // --- lookups

  async #track<T>(work: Promise<T>): Promise<T> {
    this.#lookups.add(work);
    try {
      return await work;
    } finally {
      this.#lookups.delete(work);
    }
  }

  async #seedsFor(target: Uint8Array): Promise<{ id?: Uint8Array; address: DhtPeerAddress }[]> {
    const closest = this.#table.closest(target, K);
    if (closest.length >= K) return closest;
    // A small table: the bootstrap nodes help too.
    return [...closest, ...(await this.#resolveBootstrap()).map((address) => ({ address }))];
  }

  async #runLookup(
    target: Uint8Array,
    query: Exclude<KrpcQuery, { method: "unknown" }>,
    seeds: { id?: Uint8Array; address: DhtPeerAddress }[],
    signal: AbortSignal | undefined,
    onResponse?: (body: KrpcResponseBody, lookup: Lookup) => void,
  ): Promise<Lookup> {
    const lookup = new Lookup(target, seeds, this.#now(), {
      queryTimeoutMs: this.#queryTimeoutMs,
      timeoutMs: this.#lookupTimeoutMs,
      maxQueries: this.#options.maxLookupQueries ?? 64,
      excludeId: this.id,
    });
    const stop = signal
      ? AbortSignal.any([signal, this.#closeController.signal])
      : this.#closeController.signal;
    const wakeup = new Wakeup();
    while (!stop.aborted && !lookup.finished(this.#now())) {
      for (const seed of lookup.next(this.#now())) {
        this.#query(seed.address, query, seed.id).then((answer) => {
          if (answer.type !== "response") return lookup.failed(seed.address);
          lookup.responded(
            seed.address,
            answer.senderId,
            answer.body.nodes ?? [],
            answer.body.token,
          );
          onResponse?.(answer.body, lookup);
        }, () => lookup.failed(seed.address)).finally(() => wakeup.notify());
      }
      await wakeup.wait(lookup.nextWakeAt() - this.#now(), stop);
      lookup.tick(this.#now());
    }
    signal?.throwIfAborted();
    if (this.#closed) throw new DhtError("The DHT node was closed during a lookup");
    return lookup;
  }

  #verifiedItem(
    body: KrpcResponseBody,
    publicKey: Uint8Array,
    salt?: Uint8Array,
  ): MutableItem | undefined {
    const { publicKey: k, signature, seq, encodedValue } = body;
    if (!k || !signature || seq === undefined || !encodedValue) return undefined;
    if (!bytesEqual(k, publicKey)) return undefined;
    const problem = checkEncodedMutableItem({ publicKey: k, signature, seq, encodedValue, salt });
    if (problem) return undefined;
    const value = decodeBencode(encodedValue);
    if (!(value instanceof Uint8Array)) return undefined; // pkarr's v is a byte string
    return salt && salt.length > 0
      ? { publicKey: k, seq, value, signature, salt }
      : { publicKey: k, seq, value, signature };
  }

  /** Host names are resolved once; again only while none resolved (DNS down at start). */
  async #resolveBootstrap(): Promise<DhtPeerAddress[]> {
    this.#bootstrapAddresses ??= this.#resolveAll(this.#options.bootstrap);
    const addresses = await this.#bootstrapAddresses;
    if (addresses.length === 0) this.#bootstrapAddresses = undefined;
    return addresses;
  }

  async #resolveAll(addresses: readonly DhtPeerAddress[]): Promise<DhtPeerAddress[]> {
    const resolve = this.#options.resolveHost ?? systemResolveIpv4;
    const resolved = await Promise.all(addresses.map(async (address) => {
      if (IPV4.test(address.hostname)) return [address];
      try {
        const ips = (await resolve(address.hostname)).filter((ip) => IPV4.test(ip));
        return ips.slice(0, 4).map((hostname) => ({ hostname, port: address.port }));
      } catch (error) {
        this.#log(
          `DHT bootstrap ${address.hostname}:${address.port} not resolved: ${
            (error as Error).message
          }`,
        );
        return [];
      }
    }));
    return resolved.flat();
  }

  #refresh(staleAfterMs: number): void {
    if (this.#closed) return;
    this.#store.sweep();
    this.#peers.sweep();
    if (this.#table.size === 0 && this.#options.bootstrap.length > 0) {
      // Isolated (the network was down, or every node left): join again.
      if (!this.#rejoining) {
        this.#rejoining = true;
        this.bootstrap().catch(() => {}).finally(() => this.#rejoining = false);
      }
      return;
    }
    for (const target of this.#table.refreshTargets(staleAfterMs, this.#random, 4)) {
      this.#track(
        this.#runLookup(
          target,
          { method: "find_node", target },
          this.#table.closest(target, K),
          undefined,
        ),
      ).catch(() => {});
    }
  }

  // --- transactions

  #query(
    address: DhtPeerAddress,
    query: Exclude<KrpcQuery, { method: "unknown" }>,
    expectedId?: Uint8Array,
  ): Promise<KrpcMessage> {
    if (this.#closed) return Promise.reject(new DhtError("DHT node closed"));
    if (this.#pending.size >= this.#maxPending) {
      return Promise.reject(new DhtError("Too many DHT queries in flight"));
    }
    let transaction: Uint8Array;
    let key: string;
    do {
      this.#nextTransaction = (this.#nextTransaction + 1) & 0xffff;
      transaction = Uint8Array.of(this.#nextTransaction >> 8, this.#nextTransaction & 0xff);
      key = toHex(transaction);
    } while (this.#pending.has(key));
    const datagram = encodeQuery(transaction, this.id, query, this.#options.readOnly ?? false);
    return new Promise<KrpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        if (expectedId) this.#table.failed(expectedId);
        reject(new DhtError(`No answer from ${addressToKey(address)}`));
      }, this.#queryTimeoutMs);
      this.#pending.set(key, {
        address,
        timer,
        reject,
        resolve: (message) => {
          if (message.type === "response") {
            if (bytesEqual(message.senderId, this.id)) {
              return reject(new DhtError(`${addressToKey(address)} claims our own node id`));
            }
            this.#observe({ id: message.senderId, address }, "response");
          }
          resolve(message);
        },
      });
      this.#socket.send(datagram, address).catch(() => {});
    });
  }

  async #receiveLoop(): Promise<void> {
    while (!this.#closed) {
      let data: Uint8Array;
      let from: DhtPeerAddress;
      try {
        [data, from] = await this.#socket.receive();
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof Deno.errors.BadResource) {
          this.#log("DHT socket closed under the node; it stops answering");
          return;
        }
        // A transient receive error (e.g. an ICMP report): keep serving, without spinning.
        this.#log(`DHT socket receive failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (data.length > MAX_DATAGRAM_BYTES) continue;
      try {
        this.#onDatagram(data, from);
      } catch (error) {
        // A bug must not stop the node: say so and keep serving.
        this.#log(
          `DHT datagram from ${addressToKey(from)} not handled: ${(error as Error).message}`,
        );
      }
    }
  }

  #onDatagram(data: Uint8Array, from: DhtPeerAddress): void {
    let message: KrpcMessage;
    try {
      message = decodeKrpc(data);
    } catch (error) {
      if (!(error instanceof KrpcDecodeError)) throw error;
      if (error.transactionId && !this.#options.readOnly && this.#limiter.allow(sourceKey(from))) {
        this.#send(
          encodeError(error.transactionId, KrpcErrorCode.protocol, "Protocol Error"),
          from,
        );
      }
      return;
    }
    if (message.type === "query") return this.#onQuery(message, from);
    const key = toHex(message.transactionId);
    const pending = this.#pending.get(key);
    // Unknown transaction, or an answer from another address than the one asked: dropped.
    if (!pending || addressToKey(pending.address) !== addressToKey(from)) return;
    this.#pending.delete(key);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  #onQuery(message: Extract<KrpcMessage, { type: "query" }>, from: DhtPeerAddress): void {
    if (this.#options.readOnly) return;
    if (!this.#limiter.allow(sourceKey(from))) return;
    if (bytesEqual(message.senderId, this.id)) return; // ourselves, or someone claiming to be
    if (!message.readOnly) this.#observe({ id: message.senderId, address: from }, "query");
    const answer = answerQuery(message.query, from, this.#answerState);
    this.#send(
      "body" in answer
        ? encodeResponse(message.transactionId, this.id, answer.body, from)
        : encodeError(message.transactionId, answer.error.code, answer.error.message),
      from,
    );
  }

  #observe(contact: NodeContact, source: "response" | "query"): void {
    const result = this.#table.observe(contact, source);
    if (!result.ping) return;
    const key = toHex(result.ping.id);
    if (this.#pinging.has(key)) return;
    this.#pinging.add(key);
    this.#query(result.ping.address, { method: "ping" }, result.ping.id)
      .catch(() => {})
      .finally(() => this.#pinging.delete(key));
  }

  #send(datagram: Uint8Array, to: DhtPeerAddress): void {
    if (!this.#closed) this.#socket.send(datagram, to).catch(() => {});
  }
}
