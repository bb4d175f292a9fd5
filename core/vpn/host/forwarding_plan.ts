/**
 * What a VPN server changes on its host so clients reach the networks behind
 * it, as plain data (sans-IO): `net.ipv4.ip_forward`, a MASQUERADE rule for the
 * VPN network and, when the FORWARD policy drops, accept rules for the device
 * (out to other interfaces, and replies back; never device to device, which is
 * client-to-client traffic and the host's own FORWARD rules' to decide).
 *
 * Every rule carries the comment `tunnel-vpn:pid=<pid>:ip_forward=<0|1>`: the
 * pid tells a crashed run's leftovers from a live run's rules, and the value is
 * what `ip_forward` was before the first run changed it, so whichever run
 * leaves last restores it, even after a crash.
 * @module
 */
import { Cidr, parseIp } from "../../net/mod.ts";
import { checkInterfaceName } from "./interface_name.ts";

/** Prefix of every rule comment host forwarding adds. */
export const FORWARDING_TAG = "tunnel-vpn";
const TAGGED = /^tunnel-vpn:pid=([0-9]{1,10}):ip_forward=([01])$/;
// `iptables -S` of a busy host (Docker, Kubernetes) runs to thousands of lines, not millions.
const MAX_RULES_TEXT = 4 * 1024 * 1024;

/** What to forward. */
export interface ForwardingOptions {
  /** The VPN network (IPv4 CIDR), e.g. `10.0.0.0/24`. */
  network: string;
  /** The server's TUN device. */
  tunName: string;
  /** Masquerade only out of this interface (the LAN's); default: out of every interface but the device. */
  outInterface?: string;
  /** This process's id, written into every rule. */
  pid: number;
}

/** The host's state before setup. */
export interface ForwardingFacts {
  /** Contents of `/proc/sys/net/ipv4/ip_forward`, trimmed. */
  ipForward: string;
  /** `iptables -S FORWARD`: the policy and the filter rules. */
  filterRules: string;
  /** `iptables -t nat -S POSTROUTING`. */
  natRules: string;
  /** Whether a process with this id runs. */
  isAlive(pid: number): boolean;
}

/** The commands of a setup, and how to undo it. */
export interface ForwardingPlan {
  /** Deletions of rules left by runs that no longer exist. */
  stale: string[][];
  /** Value to write to `ip_forward` (`"1"`), or undefined when it is already on. */
  ipForward: string | undefined;
  /** iptables commands that add the rules. */
  setup: string[][];
  /** iptables commands that delete them again, in reverse order. */
  teardown: string[][];
  /** `ip_forward` before any run of ours changed it: what the last run out restores. */
  original: string;
}

/** A tagged rule found in `iptables -S` output. */
export interface TaggedRule {
  /** The command that deletes it. */
  delete: string[];
  /** The run that added it. */
  pid: number;
  /** `ip_forward` before that run's first change. */
  original: string;
}

/**
 * The rules of ours in `iptables -S` output (filter or `-t nat`; pass the table).
 *
 * @throws {RangeError} when the text exceeds 4 MiB.
 * @example
 * ```ts
 * taggedRules('-A FORWARD -i tun0 -m comment --comment "tunnel-vpn:pid=7:ip_forward=0" -j ACCEPT', "filter");
 * // [{ pid: 7, original: "0", delete: ["iptables", "-w", "-t", "filter", "-D", "FORWARD", "-i", "tun0", ...] }]
 * ```
 */
export function taggedRules(text: string, table: "filter" | "nat"): TaggedRule[] {
  if (text.length > MAX_RULES_TEXT) {
    throw new RangeError("Cannot read iptables rules: output over 4 MiB");
  }
  const found: TaggedRule[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("-A ") || !line.includes(FORWARDING_TAG)) continue;
    const words = splitWords(line);
    if (!words) continue;
    const comment = words.indexOf("--comment");
    const match = comment > 0 ? TAGGED.exec(words[comment + 1] ?? "") : null;
    if (!match) continue;
    found.push({
      delete: ["iptables", "-w", "-t", table, "-D", ...words.slice(1)],
      pid: Number(match[1]),
      original: match[2],
    });
  }
  return found;
}

/**
 * The setup for `options` on a host in the state `facts`, and its undoing.
 *
 * @throws {TypeError} for a bad network or interface name.
 * @example
 * ```ts
 * const plan = planForwarding(
 *   { network: "10.0.0.0/24", tunName: "tun0", pid: 42 },
 *   { ipForward: "0", filterRules: "-P FORWARD ACCEPT\n", natRules: "", isAlive: () => false },
 * );
 * plan.setup; // [["iptables","-w","-t","nat","-A","POSTROUTING","-s","10.0.0.0/24","!","-o","tun0", ...]]
 * ```
 */
export function planForwarding(options: ForwardingOptions, facts: ForwardingFacts): ForwardingPlan {
  const network = Cidr.parse(options.network);
  if (parseIp(network.text.split("/")[0])?.length !== 4) {
    throw new TypeError(
      `Invalid VPN network '${options.network}': host forwarding supports IPv4 only`,
    );
  }
  checkInterfaceName(options.tunName);
  if (options.outInterface !== undefined) checkInterfaceName(options.outInterface);
  const ours = ourRules(facts);
  const live = ours.filter((rule) => rule.pid !== options.pid && facts.isAlive(rule.pid));
  const dead = ours.filter((rule) => rule.pid !== options.pid && !facts.isAlive(rule.pid));
  const original = live[0]?.original ?? dead[0]?.original ?? facts.ipForward;
  const tag = `${FORWARDING_TAG}:pid=${options.pid}:ip_forward=${original}`;
  const comment = ["-m", "comment", "--comment", tag];
  const out = options.outInterface === undefined
    ? ["!", "-o", options.tunName]
    : ["-o", options.outInterface];
  const rules: [string, string, string[]][] = [
    ["nat", "POSTROUTING", ["-s", network.text, ...out, ...comment, "-j", "MASQUERADE"]],
  ];
  if (/^-P FORWARD DROP$/m.test(facts.filterRules)) {
    // Inserted first, ahead of the host's own drops: VPN traffic is what the user asked for.
    // Not client to client (in and out of the device): the host's own FORWARD rules decide that.
    rules.push(["filter", "FORWARD", [
      "-i",
      options.tunName,
      "!",
      "-o",
      options.tunName,
      "-s",
      network.text,
      ...comment,
      "-j",
      "ACCEPT",
    ]]);
    rules.push(["filter", "FORWARD", [
      "-o",
      options.tunName,
      "-d",
      network.text,
      "-m",
      "conntrack",
      "--ctstate",
      "RELATED,ESTABLISHED",
      ...comment,
      "-j",
      "ACCEPT",
    ]]);
  }
  return {
    stale: dead.map((rule) => rule.delete),
    ipForward: facts.ipForward === "1" ? undefined : "1",
    setup: rules.map((
      [table, chain, spec],
    ) => ["iptables", "-w", "-t", table, chain === "FORWARD" ? "-I" : "-A", chain, ...spec]),
    teardown: [...rules].reverse().map((
      [table, chain, spec],
    ) => ["iptables", "-w", "-t", table, "-D", chain, ...spec]),
    original,
  };
}

/**
 * What to write to `ip_forward` when this run's rules are gone: the original
 * value, unless another live run still needs forwarding or nothing changed.
 *
 * @example
 * ```ts
 * planForwardingRestore("0", { ipForward: "1", filterRules: "", natRules: "", isAlive: () => false }, 42); // "0"
 * ```
 */
export function planForwardingRestore(
  original: string,
  facts: ForwardingFacts,
  pid: number,
): string | undefined {
  const others = ourRules(facts).filter((rule) => rule.pid !== pid && facts.isAlive(rule.pid));
  if (others.length > 0 || facts.ipForward === original) return undefined;
  return original;
}

function ourRules(facts: ForwardingFacts): TaggedRule[] {
  return [...taggedRules(facts.filterRules, "filter"), ...taggedRules(facts.natRules, "nat")];
}

/** Words of an `iptables -S` line; double-quoted words lose their quotes. Undefined if malformed. */
function splitWords(line: string): string[] | undefined {
  const words: string[] = [];
  let rest = line.trim();
  while (rest.length > 0) {
    const match = rest[0] === '"'
      ? /^"((?:[^"\\]|\\.)*)"(?:\s+|$)/.exec(rest)
      : /^([^\s"]+)(?:\s+|$)/.exec(rest);
    if (!match) return undefined;
    words.push(rest[0] === '"' ? match[1].replace(/\\(.)/g, "$1") : match[1]);
    rest = rest.slice(match[0].length);
  }
  return words;
}
