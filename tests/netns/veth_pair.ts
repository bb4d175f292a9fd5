/**
 * Two network namespaces joined by one veth link: the smallest bed, for VPN tests and
 * benchmarks that need two hosts and nothing between them.
 *
 * ```text
 *   left namespace                          right namespace
 *   eth0 192.0.2.1/24  <---- veth ---->  eth0 192.0.2.2/24
 * ```
 * 192.0.2.0/24 is TEST-NET-1 (RFC 5737): documentation-only, so it can never shadow a
 * real network. Namespaces are named `tnb-<pid>-<hex>-{left,right}` like the NAT bed's,
 * so `sweepStaleBeds()` removes them after a crashed run. IPv6 is off in both.
 *
 * ```ts
 * const pair = await createVethPair();
 * try {
 *   await pair.exec(pair.left, ["ping", "-c", "1", pair.right.ip]);
 * } finally {
 *   await pair.close();
 * }
 * ```
 * @module
 */
import type { ExecResult } from "./bed.ts";
import {
  type ExecOptions,
  runInNamespace,
  spawnInNamespace,
  type SpawnOptions,
  tool,
} from "./command.ts";
import {
  addNamespace,
  ipBatch,
  IPV6_OFF,
  newBedPrefix,
  removeNamespaces,
  sysctlIn,
} from "./namespaces.ts";

/** One end of a {@link VethPair}. */
export interface PairHost {
  /** Which end. */
  readonly name: "left" | "right";
  /** Namespace name, for `ip netns exec`. */
  readonly ns: string;
  /** Address of the host's veth end (`192.0.2.1` left, `192.0.2.2` right). */
  readonly ip: string;
  /** Name of the veth end inside the namespace. */
  readonly device: string;
}

/** Options of {@link createVethPair}. */
export interface VethPairOptions {
  /** MTU of the veth link. Default 1500, an Ethernet LAN's. */
  mtu?: number;
  /** Namespace name prefix. Default `newBedPrefix()` (swept after a crash). */
  prefix?: string;
}

/** A built pair. Always `close()` it, in a `finally`. */
export interface VethPair {
  /** The left end, `192.0.2.1`. */
  readonly left: PairHost;
  /** The right end, `192.0.2.2`. */
  readonly right: PairHost;
  /** The veth link's subnet, `192.0.2.0/24`. */
  readonly subnet: string;
  /** Spawns `ip netns exec <ns> <cmd...>`. close() kills it if it is still running. */
  spawn(host: { readonly ns: string }, cmd: string[], options?: SpawnOptions): Deno.ChildProcess;
  /** Runs a command in a namespace to completion (killed after 30 s by default). */
  exec(host: { readonly ns: string }, cmd: string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * A UDP port no socket in `host`'s namespace holds and that this pair has not handed
   * out before (so two WireGuard ends in one namespace never collide). Starts at 51820,
   * WireGuard's customary port, so logs read as usual.
   *
   * @throws {Error} when 100 ports in a row are taken.
   */
  freeUdpPort(host: { readonly ns: string }): Promise<number>;
  /** Kills every process in both namespaces and deletes them. Idempotent. */
  close(): Promise<void>;
}

const SUBNET_PREFIX = "192.0.2";
const FIRST_UDP_PORT = 51820;
// Far more ports than any test binds; only a leftover bound by something else skips one.
const MAX_PORT_TRIES = 100;

/**
 * A `freeUdpPort(host)` function like {@link VethPair.freeUdpPort}'s, with its own
 * memory of the ports it handed out: for other two-host beds (the WAN pair) that run
 * the same VPNs.
 */
export function udpPortFinder(): (host: { readonly ns: string }) => Promise<number> {
  let nextPort = FIRST_UDP_PORT;
  return async (host) => {
    for (let i = 0; i < MAX_PORT_TRIES; i++) {
      const port = nextPort++;
      const held = await runInNamespace(host.ns, [
        tool("ss", "iproute2"),
        "-H",
        "-u",
        "-a",
        "-n",
        `sport = :${port}`,
      ]);
      if (held.code === 0 && held.stdout.trim() === "") return port;
    }
    throw new Error(`Cannot find a free UDP port in ${host.ns}: ${MAX_PORT_TRIES} were taken`);
  };
}

/**
 * Builds the two namespaces and the veth link between them; on any failure removes what
 * it had built and rethrows.
 *
 * @throws {Error} "ip not found (apt-get install iproute2)" and the like, or a failed command.
 */
export async function createVethPair(options: VethPairOptions = {}): Promise<VethPair> {
  tool("ip", "iproute2");
  const prefix = options.prefix ?? newBedPrefix();
  const made: string[] = [];
  const teardown = () => removeNamespaces(made);
  try {
    const [left, right] = (["left", "right"] as const).map((name, i): PairHost => ({
      name,
      ns: `${prefix}-${name}`,
      ip: `${SUBNET_PREFIX}.${i + 1}`,
      device: "eth0",
    }));
    for (const host of [left, right]) {
      await addNamespace(host.ns);
      made.push(host.ns);
      await sysctlIn(host.ns, [...IPV6_OFF]);
    }
    await ipBatch(left.ns, [
      `link add ${left.device} type veth peer name ${right.device} netns ${right.ns}`,
      `link set ${left.device} mtu ${options.mtu ?? 1500}`,
      `addr add ${left.ip}/24 dev ${left.device}`,
      `link set ${left.device} up`,
    ]);
    await ipBatch(right.ns, [
      `link set ${right.device} mtu ${options.mtu ?? 1500}`,
      `addr add ${right.ip}/24 dev ${right.device}`,
      `link set ${right.device} up`,
    ]);
    let closing: Promise<void> | undefined;
    return {
      left,
      right,
      subnet: `${SUBNET_PREFIX}.0/24`,
      spawn: (host, cmd, o) => spawnInNamespace(host.ns, cmd, o),
      exec: (host, cmd, o) => runInNamespace(host.ns, cmd, o),
      freeUdpPort: udpPortFinder(),
      close: () => closing ??= teardown(),
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}
