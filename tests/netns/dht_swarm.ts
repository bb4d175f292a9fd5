/**
 * A private Mainline DHT on a bed's public segment, made of an implementation
 * independent of ours (npm bittorrent-dht 11.0.12), and independent tools that put and
 * get pkarr records in it (bittorrent-dht plus npm pkarr 1.3.0's SignedPacket, which
 * signs and verifies with libsodium through sodium-native and decodes DNS with
 * dns-packet).
 *
 * ```text
 *   bed "pub" namespace, bridge br0 198.51.100.0/24 (public host .1/.2, routers .10/.20)
 *       | veth dht0            | veth dht1              ...  | veth dht<N-1>
 *   <prefix>-dht0            <prefix>-dht1                  <prefix>-dht<N-1>
 *   198.51.100.101:6881      198.51.100.102:6881            198.51.100.<101+N-1>:6881
 * ```
 * Each node is its own process in its own namespace, bootstrapped off all the others and
 * nothing else: no route leads out of the bed, and every process records where it sent
 * datagrams (`sentTo`), which the helpers here check against the bed's public segment.
 *
 * ```ts
 * const bed = await createBed({ left: "port-restricted", right: "symmetric", stun: false });
 * const swarm = await startDhtSwarm(bed, { nodes: 8 });
 * try {
 *   const put = await independentPut(swarm, bed.left, { txt: ["relay=http://198.51.100.1:3340/"] });
 *   const record = await independentGet(swarm, bed.right, put.publicKey);
 * } finally {
 *   await swarm.stop();
 *   await bed.close();
 * }
 * ```
 * @module
 */
import type { Bed, BedTarget } from "./bed.ts";
import { spawnInNamespace } from "./command.ts";
import { addNamespace, ipBatch, IPV6_OFF, removeNamespaces, sysctlIn } from "./namespaces.ts";

/** Most nodes a swarm may have: addresses 198.51.100.101 to .150 are set aside for them. */
export const MAX_DHT_SWARM_NODES = 50;
/** The UDP port every swarm node listens on (each has its own address). */
export const DHT_SWARM_PORT = 6881;
/** Default time {@link startDhtSwarm} waits for the processes to listen (Deno's start-up). */
export const DHT_SWARM_START_TIMEOUT_MS = 30_000;
/** Default time {@link startDhtSwarm} waits, after the join, for every table to be full. */
export const DHT_SWARM_READY_TIMEOUT_MS = 10_000;
/** Default time an independent put or get may take, the process's start-up included. */
export const DHT_TOOL_TIMEOUT_MS = 30_000;

const FIRST_HOST = 101;
const SEGMENT = "198.51.100.";
const TEST_CONFIG = new URL("../../deno.test.json", import.meta.url).pathname;
const NODE_SCRIPT = new URL("./_dht_node.ts", import.meta.url).pathname;
const TOOL_SCRIPT = new URL("./_dht_tool.ts", import.meta.url).pathname;
// What bittorrent-dht and pkarr need: UDP, sodium-native's N-API addon (read + ffi),
// the `debug` package's look at DEBUG, and os.homedir(), which pkarr's DHT module calls
// when imported (for a routing-table file the tools never create).
const SCRIPT_PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-ffi",
  "--allow-env",
  "--allow-sys=homedir",
];

/** The part of a {@link Bed} a swarm uses: its public namespace, which has bridge br0. */
export type DhtBed = Pick<Bed, "publicHost" | "exec">;

/** Options of {@link startDhtSwarm}. */
export interface DhtSwarmOptions {
  /** How many nodes, 1 to {@link MAX_DHT_SWARM_NODES}. Default 8. */
  nodes?: number;
  /** Default {@link DHT_SWARM_START_TIMEOUT_MS}. */
  startTimeoutMs?: number;
  /** Default {@link DHT_SWARM_READY_TIMEOUT_MS}. */
  readyTimeoutMs?: number;
}

/** What one swarm node reports about itself. */
export interface DhtNodeStatus {
  /** The node's own `IP:PORT`. */
  address: string;
  /** Its routing table, `IP:PORT` each. */
  table: string[];
  /** The BEP 44 mutable items it stores: public key (hex) and seq. */
  values: { k: string | null; seq: number | null }[];
  /** Every `IP:PORT` it has sent a datagram to. */
  sentTo: string[];
}

/** Where independent tools find the DHT: a bed to run them in and nodes to start from. */
export interface DhtReach {
  /** The bed whose namespaces the tools run in. */
  readonly bed: DhtBed;
  /** `IP:PORT` of the nodes a tool bootstraps off (and nothing else). */
  readonly bootstrap: readonly string[];
}

/** A running swarm. Always `stop()` it, in a `finally`, before the bed's `close()`. */
export interface DhtSwarm extends DhtReach {
  /** The swarm's namespaces, one per node. */
  readonly namespaces: readonly string[];
  /** Asks every node for its {@link DhtNodeStatus}, in node order. */
  status(): Promise<DhtNodeStatus[]>;
  /**
   * Closes each node's stdin (it destroys its DHT and exits 0), waits up to 3 s, then
   * kills whatever is left and deletes the namespaces. Idempotent.
   * @returns each node's exit status (`undefined` when it had to be killed).
   */
  stop(): Promise<(Deno.CommandStatus | undefined)[]>;
}

/**
 * Starts `nodes` bittorrent-dht processes, each in a namespace hung off the bed's public
 * bridge, and resolves once every node's routing table holds every other node.
 *
 * @throws {RangeError} for a node count outside 1..{@link MAX_DHT_SWARM_NODES}, before
 *   anything is built.
 * @throws {Error} when a node does not listen or the tables do not fill in time; what
 *   was built is removed first.
 */
export async function startDhtSwarm(
  bed: DhtBed,
  options: DhtSwarmOptions = {},
): Promise<DhtSwarm> {
  const count = options.nodes ?? 8;
  if (!Number.isInteger(count) || count < 1 || count > MAX_DHT_SWARM_NODES) {
    throw new RangeError(
      `Cannot start a DHT swarm of ${count} nodes: 1 to ${MAX_DHT_SWARM_NODES} fit the bed`,
    );
  }
  const pub = bed.publicHost.ns;
  const prefix = pub.replace(/-pub$/, "");
  const addresses = Array.from({ length: count }, (_, i) => `${SEGMENT}${FIRST_HOST + i}`);
  const bootstrap = addresses.map((ip) => `${ip}:${DHT_SWARM_PORT}`);
  const namespaces: string[] = [];
  const nodes: NodeProcess[] = [];
  let stopping: Promise<(Deno.CommandStatus | undefined)[]> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      const exits = await Promise.all(nodes.map((node) => node.close()));
      await removeNamespaces(namespaces);
      return exits;
    })();
  try {
    for (const [i, ip] of addresses.entries()) {
      const ns = `${prefix}-dht${i}`;
      await addNamespace(ns);
      namespaces.push(ns);
      await sysctlIn(ns, [...IPV6_OFF]);
      await ipBatch(pub, [
        `link add dht${i} type veth peer name eth0 netns ${ns}`,
        `link set dht${i} master br0 up`,
      ]);
      await ipBatch(ns, [`addr add ${ip}/24 dev eth0`, "link set eth0 up"]);
    }
    for (const [i, ns] of namespaces.entries()) {
      const peers = bootstrap.filter((_, j) => j !== i);
      nodes.push(
        new NodeProcess(
          bootstrap[i],
          spawnInNamespace(ns, [
            Deno.execPath(),
            "run",
            "--no-prompt",
            "--config",
            TEST_CONFIG,
            ...SCRIPT_PERMISSIONS,
            NODE_SCRIPT,
            bootstrap[i],
            ...peers,
          ], { stdin: "piped" }),
        ),
      );
    }
    const startTimeoutMs = options.startTimeoutMs ?? DHT_SWARM_START_TIMEOUT_MS;
    await Promise.all(nodes.map((node) => node.nextEvent("listening", startTimeoutMs)));
    await Promise.all(nodes.map((node) => node.command("join")));
    await waitForFullTables(nodes, options.readyTimeoutMs ?? DHT_SWARM_READY_TIMEOUT_MS);
  } catch (error) {
    await stop();
    throw error;
  }
  const status = () => Promise.all(nodes.map((node) => node.status()));
  return { bed, bootstrap, namespaces, status, stop };
}

async function waitForFullTables(nodes: NodeProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const everyone = nodes.map((node) => node.address);
  while (true) {
    const statuses = await Promise.all(nodes.map((node) => node.status()));
    const missing = statuses.map((s) =>
      everyone.filter((other) => other !== s.address && !s.table.includes(other))
    );
    if (missing.every((m) => m.length === 0)) return;
    if (Date.now() >= deadline) {
      const detail = statuses.map((s, i) => `${s.address} lacks ${missing[i].length}`);
      throw new Error(
        `DHT swarm not ready within ${timeoutMs} ms: routing tables not full (${
          detail.join(", ")
        })`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// One `_dht_node.ts` process: JSON events on stdout, commands on stdin.
class NodeProcess {
  readonly address: string;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #events: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  #stderr = "";
  #ended = false;
  #reading: Promise<unknown>;

  constructor(address: string, child: Deno.ChildProcess) {
    this.address = address;
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    const stdout = this.#read(child.stdout, (line) => {
      try {
        this.#events.push(JSON.parse(line));
      } catch {
        this.#stderr += `(stdout) ${line}\n`;
      }
    }).finally(() => {
      this.#ended = true;
      this.#wake();
    });
    const stderr = this.#read(child.stderr, (line) => this.#stderr += `${line}\n`);
    this.#reading = Promise.all([stdout, stderr]);
  }

  async #read(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) onLine(line);
      this.#wake();
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** The next event named `name`, consumed; throws at the deadline or when output ends. */
  async nextEvent(name: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = this.#events.findIndex((event) => event.event === name);
      if (at >= 0) return this.#events.splice(at, 1)[0];
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) {
        throw new Error(
          `DHT node ${this.address}: no "${name}" event ${
            this.#ended ? "before it exited" : `within ${timeoutMs} ms`
          }\n${this.#stderr.trim()}`,
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  async command(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(`${line}\n`));
  }

  async status(): Promise<DhtNodeStatus> {
    await this.command("status");
    const event = await this.nextEvent("status", 5_000);
    return {
      address: this.address,
      table: event.table as string[],
      values: event.values as DhtNodeStatus["values"],
      sentTo: event.sentTo as string[],
    };
  }

  async close(): Promise<Deno.CommandStatus | undefined> {
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.#child.status,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 3_000)),
    ]);
    clearTimeout(timer);
    if (exited === undefined) {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
      await this.#child.status;
    }
    await this.#reading; // the pipes end with the process: no read left pending
    return exited;
  }
}

/** A pkarr record as the independent get decoded and verified it. */
export interface IndependentRecord {
  /** The public key, z-base-32. */
  publicKey: string;
  /** BEP 44 seq: pkarr's timestamp in microseconds. */
  seq: bigint;
  /** Every TXT record of the DNS packet: full name and text. */
  txt: { name: string; text: string }[];
  /** Values of `_iroh.<key>` TXT `relay=...`, as written. */
  relayUrls: string[];
  /** Values of `_iroh.<key>` TXT `addr=...`, as written. */
  addrs: string[];
  /** sig | seq | DNS packet, as a pkarr relay stores it. */
  body: Uint8Array;
  /** Where the tool sent datagrams, all bed addresses (checked by {@link assertInsideBed}). */
  sentTo: string[];
}

/** What an independent put reports. */
export interface IndependentPutResult {
  /** The public key, z-base-32. */
  publicKey: string;
  /** The seq put. */
  seq: bigint;
  /** How many nodes answered the put (stored it). */
  acks: number;
  /** Where the tool sent datagrams, all bed addresses (checked by {@link assertInsideBed}). */
  sentTo: string[];
}

/** Options of {@link independentGet} and {@link independentPut}. */
export interface IndependentToolOptions {
  /** Kill the tool after this long. Default {@link DHT_TOOL_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** The tool's own deadline for its DHT work (test hook; default 15 s in the tool). */
  deadlineMs?: number;
}

/**
 * Gets the record of `publicKeyZ32` from the DHT with bittorrent-dht, run in `target`,
 * and verifies it with pkarr (libsodium): signature, key, DNS packet.
 *
 * @returns the decoded record, or `undefined` when no node holds a valid one.
 * @throws {Error} with the tool's one-line reason when it fails, or when it sent a
 *   datagram to an address outside the bed ({@link assertInsideBed}).
 */
export async function independentGet(
  reach: DhtReach,
  target: BedTarget,
  publicKeyZ32: string,
  options: IndependentToolOptions = {},
): Promise<IndependentRecord | undefined> {
  const out = await runTool(reach, target, ["get", publicKeyZ32], options);
  if (!out.found) return undefined;
  return {
    publicKey: out.publicKey as string,
    seq: BigInt(out.seq as number),
    txt: out.txt as IndependentRecord["txt"],
    relayUrls: out.relayUrls as string[],
    addrs: out.addrs as string[],
    body: hexToBytes(out.body as string),
    sentTo: out.sentTo as string[],
  };
}

/** What {@link independentPut} signs and puts. */
export interface IndependentRecordInput {
  /** Ed25519 seed (32 bytes); default: random. Our `new SecretKey(seed)` is the same key. */
  seed?: Uint8Array;
  /** BEP 44 seq; default: now in microseconds. Below 2^53 (bittorrent-dht's numbers). */
  seq?: bigint;
  /** `_iroh` TXT strings, one record each: `relay=URL`, `addr=IP:PORT`. */
  txt: string[];
}

/**
 * Signs a pkarr record with pkarr's own code (libsodium) and puts it with
 * bittorrent-dht, run in `target`.
 *
 * @throws {Error} as {@link independentGet} does.
 */
export async function independentPut(
  reach: DhtReach,
  target: BedTarget,
  input: IndependentRecordInput,
  options: IndependentToolOptions = {},
): Promise<IndependentPutResult & { seed: Uint8Array }> {
  const seed = input.seed ?? crypto.getRandomValues(new Uint8Array(32));
  const seq = input.seq ?? BigInt(Date.now()) * 1000n;
  const out = await runTool(
    reach,
    target,
    ["put", bytesToHex(seed), String(seq), ...input.txt],
    options,
  );
  return { ...putResult(out), seed };
}

/**
 * Puts a body signed elsewhere (sig | seq | DNS packet, e.g. our `signRecord`) with
 * bittorrent-dht, run in `target`, after pkarr has verified it against `publicKeyZ32`.
 *
 * @throws {Error} as {@link independentGet} does; also when pkarr rejects the signature.
 */
export async function independentPutSigned(
  reach: DhtReach,
  target: BedTarget,
  publicKeyZ32: string,
  body: Uint8Array,
  options: IndependentToolOptions = {},
): Promise<IndependentPutResult> {
  const out = await runTool(
    reach,
    target,
    ["put-signed", publicKeyZ32, bytesToHex(body)],
    options,
  );
  return putResult(out);
}

function putResult(out: Record<string, unknown>): IndependentPutResult {
  return {
    publicKey: out.publicKey as string,
    seq: BigInt(out.seq as number),
    acks: out.acks as number,
    sentTo: out.sentTo as string[],
  };
}

/**
 * Throws unless every `IP:PORT` is a bed address: the public segment 198.51.100.0/24
 * (the swarm, the public host, the routers' WAN sides) or a bed LAN, 10.0.1.0/24 and
 * 10.0.2.0/24 (a DHT node of ours on a peer host, reached from its own LAN).
 */
export function assertInsideBed(sentTo: readonly string[], who: string): void {
  const inside = /^(198\.51\.100|10\.0\.1|10\.0\.2)\.\d{1,3}:\d+$/;
  const outside = sentTo.filter((dest) => !inside.test(dest));
  if (outside.length > 0) {
    throw new Error(`${who} sent datagrams outside the bed: ${outside.join(", ")}`);
  }
}

async function runTool(
  reach: DhtReach,
  target: BedTarget,
  args: string[],
  options: IndependentToolOptions,
): Promise<Record<string, unknown>> {
  const [command, ...rest] = args;
  const cmd = [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--config",
    TEST_CONFIG,
    ...SCRIPT_PERMISSIONS,
    TOOL_SCRIPT,
    command,
    reach.bootstrap.join(","),
    ...rest,
  ];
  const env: Record<string, string> = options.deadlineMs === undefined
    ? {}
    : { DHT_TOOL_DEADLINE_MS: String(options.deadlineMs) };
  const timeoutMs = options.timeoutMs ?? DHT_TOOL_TIMEOUT_MS;
  const result = await reach.bed.exec(target, cmd, { env, timeoutMs });
  if (result.code !== 0) {
    const reason = result.stderr.trim().split("\n").at(-1) || `killed (${result.signal})`;
    throw new Error(`independent ${command} failed: ${reason}`);
  }
  const line = result.stdout.trim().split("\n").at(-1) ?? "";
  const out = JSON.parse(line) as Record<string, unknown>;
  assertInsideBed(out.sentTo as string[], `independent ${command}`);
  return out;
}

function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}
