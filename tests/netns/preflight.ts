/**
 * Can this machine build beds? Tests call {@link canBuildBeds} and skip with its reason.
 * @module
 */
import { findTool, run } from "./command.ts";
import { addNamespace, newBedPrefix, removeNamespaces } from "./namespaces.ts";

/** `ok`, or the reason beds cannot be built here (printed by skipped tests). */
export type BedSupport = { ok: true } | { ok: false; reason: string };

const TOOLS: [string, string][] = [
  ["ip", "iproute2"],
  ["ss", "iproute2"],
  ["sysctl", "procps"],
  ["iptables-restore", "iptables"],
  ["nft", "nftables"],
];

let cached: Promise<BedSupport> | undefined;

/**
 * Checks, once per process: Linux, root, the tools (coturn unless `stun: false`), and that
 * a namespace can really be created and given iptables and nft rules.
 */
export function canBuildBeds(options: { stun?: boolean } = {}): Promise<BedSupport> {
  if (options.stun === false) return check(false);
  return cached ??= check(true);
}

async function check(stun: boolean): Promise<BedSupport> {
  if (Deno.build.os !== "linux") return { ok: false, reason: "network namespaces need Linux" };
  try {
    if (Deno.uid() !== 0) return { ok: false, reason: "not root (namespaces need CAP_SYS_ADMIN)" };
  } catch (e) {
    return { ok: false, reason: `cannot read uid: ${(e as Error).message}` };
  }
  const tools = stun ? [...TOOLS, ["turnserver", "coturn"]] : TOOLS;
  const missing = tools.filter(([name]) => !findTool(name));
  if (missing.length > 0) {
    const list = missing.map(([name, pkg]) => `${name} (${pkg})`).join(", ");
    return { ok: false, reason: `missing tools: ${list}` };
  }
  const ns = `${newBedPrefix()}-check`;
  try {
    await addNamespace(ns);
    for (const cmd of [["iptables-restore", "--test"], ["nft", "-c", "-f", "-"]]) {
      const result = await run([
        findTool("ip")!,
        "netns",
        "exec",
        ns,
        findTool(cmd[0])!,
        ...cmd.slice(1),
      ], {
        stdin: cmd[0] === "nft"
          ? "table ip t {\n set s {\n type ipv4_addr . inet_service\n flags dynamic, timeout\n }\n}\n"
          : "*nat\n-A POSTROUTING -j MASQUERADE --random-fully\nCOMMIT\n",
      });
      if (result.code !== 0) {
        return { ok: false, reason: `${cmd[0]} fails in a namespace: ${result.stderr.trim()}` };
      }
    }
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `cannot create a network namespace: ${(e as Error).message}` };
  } finally {
    await removeNamespaces([ns]).catch(() => {});
  }
}

/**
 * Can the port-mapping tests run? Beds, plus Debian's miniupnpd (netfilter build, which
 * needs the legacy iptables tools for its chains) and the reference clients upnpc, natpmpc.
 */
export async function canRunMiniUpnpd(): Promise<BedSupport> {
  const beds = await canBuildBeds();
  if (!beds.ok) return beds;
  const tools: [string, string][] = [
    ["miniupnpd", "miniupnpd-iptables"],
    ["iptables-legacy-restore", "iptables"],
    ["upnpc", "miniupnpc"],
    ["natpmpc", "natpmpc"],
  ];
  const missing = tools.filter(([name]) => !findTool(name));
  if (missing.length === 0) return { ok: true };
  return {
    ok: false,
    reason: `missing tools: ${missing.map(([name, pkg]) => `${name} (${pkg})`).join(", ")}`,
  };
}
