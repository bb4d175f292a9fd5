/**
 * A NAT test bed built from network namespaces, veth links, bridges and iptables.
 *
 * ```text
 *                 public segment 198.51.100.0/24 (bridge br0 in the "pub" namespace)
 *                 public host 198.51.100.1 + .2, coturn STUN on both :3478
 *                      |                                      |
 *        wan0 198.51.100.10                       wan0 198.51.100.20
 *        left router (NAT kind)                   right router (NAT kind)
 *        br0 10.0.1.1/24                          br0 10.0.2.1/24
 *                      |                                      |
 *        left host eth0 10.0.1.2                  right host eth0 10.0.2.2
 * ```
 * With `right: "same-lan"` there is no right router: the right host is 10.0.1.3 on the
 * left LAN. Only addresses inside the bed's namespaces are used; the root namespace's
 * routes and iptables are never touched. IPv6 is disabled in every bed namespace so that
 * applications see exactly the IPv4 topology above.
 *
 * ```ts
 * const bed = await createBed({ left: "port-restricted", right: "symmetric" });
 * try {
 *   const { stdout } = await bed.exec(bed.left, ["ip", "-4", "addr"]); // 10.0.1.2 only
 * } finally {
 *   await bed.close();
 * }
 * ```
 * @module
 */
import {
  type CommandResult,
  type ExecOptions,
  mustRun,
  runInNamespace,
  spawnInNamespace,
  type SpawnOptions,
  tool,
} from "./command.ts";
import { startStunServer, type StunProcess } from "./coturn.ts";
import {
  addNamespace,
  ipBatch,
  IPV6_OFF,
  makeBedDir,
  newBedPrefix,
  removeNamespaces,
  sysctlIn,
} from "./namespaces.ts";
import { type NatKind, routerRules } from "./nat_rules.ts";

export type { ExecOptions, NatKind, SpawnOptions };

/** Layout of a bed: the NAT kind of each side, or both hosts on the left LAN. */
export interface BedOptions {
  left: NatKind;
  /** `"same-lan"`: the right host sits on the left LAN, behind the left router. */
  right: NatKind | "same-lan";
  /** Start coturn on the public host (default true). */
  stun?: boolean;
}

/** A peer host of the bed. Pass it to {@link Bed.spawn} / {@link Bed.exec}. */
export interface BedHost {
  readonly name: "left" | "right";
  /** Namespace of the host itself. */
  readonly ns: string;
  /** LAN address of the host. */
  readonly ip: string;
  /** WAN address of the router the host sits behind (its public address). */
  readonly wanIp: string;
  /** Namespace of that router; `bed.exec({ ns: host.routerNs }, ...)` inspects it. */
  readonly routerNs: string;
}

/** Any namespace of the bed (a {@link BedHost}, `{ ns: routerNs }`), or the public host. */
export type BedTarget = { readonly ns: string } | "public";

/** Outcome of {@link Bed.exec}; `signal` is "SIGKILL" when the command timed out. */
export type ExecResult = CommandResult;

/** A built bed. Always `close()` it, in a `finally`. */
export interface Bed {
  readonly left: BedHost;
  readonly right: BedHost;
  readonly publicHost: { readonly ns: string; readonly ips: readonly [string, string] };
  /** `"198.51.100.1:3478"`, or `""` when built with `stun: false`. */
  readonly stunServer: string;
  /** Spawns `ip netns exec <ns> <cmd...>`. close() kills it if it is still running. */
  spawn(target: BedTarget, cmd: string[], options?: SpawnOptions): Deno.ChildProcess;
  /** Runs a command in a namespace to completion and collects its output. */
  exec(target: BedTarget, cmd: string[], options?: ExecOptions): Promise<ExecResult>;
  /** Stops coturn, kills every process in the bed's namespaces, deletes them. Idempotent. */
  close(): Promise<void>;
}

const PUBLIC_IPS = ["198.51.100.1", "198.51.100.2"] as const;
const STUN_PORT = 3478;
const SIDES = {
  left: { wanIp: "198.51.100.10", lan: "10.0.1" },
  right: { wanIp: "198.51.100.20", lan: "10.0.2" },
} as const;

/** Builds a bed; on any failure removes what it had built and rethrows. */
export async function createBed(options: BedOptions): Promise<Bed> {
  tool("ip", "iproute2"); // fails early, naming the package, before anything is built
  const made: Made = { prefix: newBedPrefix(), namespaces: [] };
  let stun: StunProcess | undefined;
  let dir: string | undefined;
  const teardown = async () => {
    await stun?.stop();
    await removeNamespaces(made.namespaces);
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const pub = await namespace(made, "pub", []);
    await ipBatch(pub, [
      "link add br0 type bridge",
      "link set br0 up",
      ...PUBLIC_IPS.map((addr) => `addr add ${addr}/24 dev br0`),
    ]);
    const sameLan = options.right === "same-lan";
    const left = await buildSide(made, pub, "left", options.left, sameLan ? 2 : 1);
    const right = options.right === "same-lan"
      ? left[1]
      : (await buildSide(made, pub, "right", options.right, 1))[0];
    if (options.stun !== false) {
      dir = await makeBedDir(made.prefix);
      stun = await startStunServer({ ns: pub, ips: PUBLIC_IPS, port: STUN_PORT, dir });
    }
    let closing: Promise<void> | undefined;
    const nsOf = (target: BedTarget) => target === "public" ? pub : target.ns;
    return {
      left: left[0],
      right,
      publicHost: { ns: pub, ips: PUBLIC_IPS },
      stunServer: stun ? `${PUBLIC_IPS[0]}:${STUN_PORT}` : "",
      spawn: (target, cmd, o) => spawnInNamespace(nsOf(target), cmd, o),
      exec: (target, cmd, o) => runInNamespace(nsOf(target), cmd, o),
      close: () => closing ??= teardown(),
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

// What a bed under construction has created so far, for teardown on failure.
interface Made {
  prefix: string;
  namespaces: string[];
}

async function namespace(made: Made, role: string, sysctls: string[]): Promise<string> {
  const name = `${made.prefix}-${role}`;
  await addNamespace(name);
  made.namespaces.push(name);
  await sysctlIn(name, [...IPV6_OFF, ...sysctls]);
  return name;
}

// A NAT router on the public bridge, its LAN bridge, and `hosts` hosts on that LAN.
async function buildSide(
  made: Made,
  pub: string,
  side: "left" | "right",
  kind: NatKind,
  hosts: number,
): Promise<BedHost[]> {
  const { wanIp, lan } = SIDES[side];
  const router = await namespace(made, `${side[0]}rt`, [
    "net.ipv4.ip_forward=1",
    // A real router's LAN switch does not run frames through its packet filter.
    "net.bridge.bridge-nf-call-iptables=0",
  ]);
  await ipBatch(pub, [
    `link add ${side} type veth peer name wan0 netns ${router}`,
    `link set ${side} master br0 up`,
  ]);
  await ipBatch(router, [
    `addr add ${wanIp}/24 dev wan0`,
    "link set wan0 up",
    "link add br0 type bridge",
    `addr add ${lan}.1/24 dev br0`,
    "link set br0 up",
  ]);
  const rules = routerRules(kind, { wan: "wan0", lan: "br0", inboundHost: `${lan}.2` });
  await inNamespace(router, [tool("iptables-restore", "iptables"), "-w", "5"], rules.iptables);
  if (rules.nft) await inNamespace(router, [tool("nft", "nftables"), "-f", "-"], rules.nft);
  const built: BedHost[] = [];
  for (let i = 0; i < hosts; i++) {
    const name = i === 0 ? side : "right";
    const host = await namespace(made, `${name[0]}h`, []);
    const addr = `${lan}.${2 + i}`;
    await ipBatch(router, [
      `link add h${i} type veth peer name eth0 netns ${host}`,
      `link set h${i} master br0 up`,
    ]);
    await ipBatch(host, [
      `addr add ${addr}/24 dev eth0`,
      "link set eth0 up",
      `route add default via ${lan}.1`,
    ]);
    built.push({ name, ns: host, ip: addr, wanIp, routerNs: router });
  }
  return built;
}

async function inNamespace(ns: string, cmd: string[], stdin?: string): Promise<void> {
  await mustRun([tool("ip", "iproute2"), "netns", "exec", ns, ...cmd], { stdin });
}
