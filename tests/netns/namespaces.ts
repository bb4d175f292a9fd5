/**
 * Naming, creating and removing the bed's network namespaces and scratch directories.
 *
 * Every namespace is named `tnb-<pid>-<hex>-<role>` and every scratch directory
 * `$TMPDIR/tnb-<pid>-<hex>-*`: the pid of the creating process lets {@link sweepStaleBeds}
 * tell leftovers of a crashed run from beds that are still in use.
 * @module
 */
import { mustRun, run, tool } from "./command.ts";

const PREFIX = "tnb-";
const STALE = /^tnb-(\d+)-[0-9a-f]+-/;

function ip(): string {
  return tool("ip", "iproute2");
}

/** A fresh `tnb-<pid>-<hex>` prefix; namespaces of one bed share it. */
export function newBedPrefix(): string {
  // Random, not a counter: `deno test --parallel` runs modules as workers of one process,
  // each with its own copy of this module.
  const hex = Array.from(
    crypto.getRandomValues(new Uint8Array(3)),
    (b) => b.toString(16).padStart(2, "0"),
  );
  return `${PREFIX}${Deno.pid}-${hex.join("")}`;
}

function tempRoot(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

/** A new scratch directory for the bed with this prefix (coturn's log and pid file). */
export function makeBedDir(prefix: string): Promise<string> {
  return Deno.makeTempDir({ dir: tempRoot(), prefix: `${prefix}-` });
}

/** Names of all network namespaces (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const out = await mustRun([ip(), "netns", "list"]);
  return out.split("\n").map((line) => line.trim().split(/\s+/)[0]).filter((n) => n);
}

/** Creates a namespace with its loopback up. */
export async function addNamespace(name: string): Promise<void> {
  await mustRun([ip(), "netns", "add", name]);
  await mustRun([ip(), "-n", name, "link", "set", "lo", "up"]);
}

async function pidsIn(name: string): Promise<number[]> {
  const out = await run([ip(), "netns", "pids", name]);
  return out.stdout.split("\n").map(Number).filter((pid) => pid > 0);
}

/**
 * Kills every process inside each namespace, then deletes the namespaces; their veths go
 * with them. Missing namespaces are ignored, so calling this twice is harmless.
 */
export async function removeNamespaces(names: string[]): Promise<void> {
  const existing = new Set(await listNamespaces());
  for (const name of names.filter((n) => existing.has(n))) {
    // A namespace outlives `ip netns del` while a process is still inside it.
    for (let round = 0; round < 20; round++) {
      const pids = await pidsIn(name);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* exited meanwhile */ }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await run([ip(), "netns", "del", name]);
    if (result.code !== 0 && !/No such file/.test(result.stderr)) {
      throw new Error(`ip netns del ${name}: ${result.stderr.trim()}`);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deletes namespaces left by beds whose creating process has died (a crashed or killed
 * test run), killing anything still running inside them (a stray coturn), and their
 * scratch directories. Returns the namespace names removed.
 */
export async function sweepStaleBeds(): Promise<string[]> {
  const isStale = (name: string) => {
    const match = STALE.exec(name);
    return match !== null && !processAlive(Number(match[1]));
  };
  const stale = (await listNamespaces()).filter(isStale);
  await removeNamespaces(stale);
  for await (const entry of Deno.readDir(tempRoot())) {
    if (entry.isDirectory && isStale(entry.name)) {
      await Deno.remove(`${tempRoot()}/${entry.name}`, { recursive: true }).catch(() => {});
    }
  }
  return stale;
}

/** Runs `ip -n <ns> -batch -`: one `ip` process per namespace step instead of one per line. */
export async function ipBatch(ns: string, lines: string[]): Promise<void> {
  await mustRun([ip(), "-n", ns, "-batch", "-"], { stdin: lines.join("\n") });
}

/**
 * Sysctls that turn IPv6 off in a fresh namespace, so that applications see only the
 * IPv4 addresses a bed assigns. Set them before any link exists: new links inherit
 * "default".
 */
export const IPV6_OFF: readonly string[] = [
  "net.ipv6.conf.all.disable_ipv6=1",
  "net.ipv6.conf.default.disable_ipv6=1",
];

/** Sets sysctls inside a namespace; keys this kernel lacks are skipped. */
export async function sysctlIn(ns: string, settings: string[]): Promise<void> {
  // -e: br_netfilter may be absent, and then its key does not exist; nothing to turn off.
  await mustRun([
    ip(),
    "netns",
    "exec",
    ns,
    tool("sysctl", "procps"),
    "-q",
    "-e",
    "-w",
    ...settings,
  ]);
}
