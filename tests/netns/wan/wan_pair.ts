/**
 * STATUS: prototype (issue 20, item 1). Works as far as `delay_line_test.ts` shows; the
 * bench's WAN table (`bench/wan_suite.ts`) builds one per case.
 *
 * Two namespaces joined through a third that emulates a WAN: the delay line
 * (`_delay_line.ts`) bridges two veths there, each direction with its own
 * {@link LinkModel} settings. The hosts have the veth pair's addresses, so code written
 * against `createVethPair()` runs over it unchanged.
 *
 * ```text
 *   left: eth0 192.0.2.1/24 <-veth-> a [delay line in mid] b <-veth-> right: eth0 192.0.2.2/24
 * ```
 * Offloads (checksum, TSO, GSO, GRO) are off on all four veth ends (`ethtool`), so every
 * frame the delay line copies is complete and at most MTU + 14 bytes long.
 *
 * ```ts ignore
 * const wan = await createWanPair({ ab: { delayUs: 40_000 }, ba: { delayUs: 40_000 } });
 * try {
 *   await wan.exec(wan.left, ["ping", "-c", "3", wan.right.ip]); // ~80 ms
 * } finally {
 *   console.log(await wan.close()); // the delay line's counters
 * }
 * ```
 * @module
 */
import { runInNamespace, spawnInNamespace, tool } from "../command.ts";
import {
  addNamespace,
  ipBatch,
  IPV6_OFF,
  newBedPrefix,
  removeNamespaces,
  sysctlIn,
} from "../namespaces.ts";
import { type PairHost, udpPortFinder, type VethPair } from "../veth_pair.ts";
import type { LinkCounters, LinkModelOptions } from "./link_model.ts";

/** One direction's settings: a {@link LinkModelOptions} with a seed instead of a function. */
export interface DirectionConfig extends Omit<LinkModelOptions, "random"> {
  /** Seed for loss and jitter (`seededRandom`); `Math.random` without one. */
  seed?: number;
}

/** What `_delay_line.ts` takes as its one argument (JSON). */
export interface DelayLineConfig {
  /** Device facing the left host. */
  a: string;
  /** Device facing the right host. */
  b: string;
  /** Left to right. */
  ab: DirectionConfig;
  /** Right to left. */
  ba: DirectionConfig;
  /** Frame slots (2 KiB each) shared by both directions. */
  slots?: number;
}

/** Counters of one direction, as the delay line reports them when it stops. */
export interface DirectionReport extends LinkCounters {
  /** Frames longer than a slot: offloads were on. */
  truncated: number;
  /** Frames dropped because every slot was in use. */
  noSlot: number;
  /** Frames the kernel refused to send. */
  sendDrops: number;
  /** Frames still in the line when it stopped. */
  pending: number;
}

/** Options of {@link createWanPair}. */
export interface WanPairOptions {
  /** Left to right. Default: no delay, loss or cap. */
  ab?: DirectionConfig;
  /** Right to left. Default: no delay, loss or cap. */
  ba?: DirectionConfig;
  /** MTU of the veths. Default 1500. */
  mtu?: number;
  /** Namespace name prefix. Default `newBedPrefix()` (swept after a crash). */
  prefix?: string;
}

/**
 * A built WAN pair. Always `close()` it, in a `finally`. Everything but `close()` is a
 * {@link VethPair}'s (`freeUdpPort()` included), so the VPNs the VPN suite starts on a veth
 * pair run across it too.
 */
export interface WanPair extends Omit<VethPair, "close"> {
  /** Namespace of the delay line. */
  readonly mid: string;
  /**
   * Stops the delay line (its counters, when it could report them) and deletes the three
   * namespaces. Idempotent.
   */
  close(): Promise<{ ab: DirectionReport; ba: DirectionReport } | undefined>;
  /**
   * After `close()` resolved without counters: why (the line had exited, with its code and
   * first stderr line, or it was killed for not stopping in time). Undefined otherwise.
   */
  noReportReason(): string | undefined;
}

const SUBNET_PREFIX = "192.0.2";
const SCRIPT = new URL("./_delay_line.ts", import.meta.url).pathname;
const OFFLOADS_OFF = ["tx", "off", "tso", "off", "gso", "off", "gro", "off"];
// Deno starts and binds two sockets in well under a second; allow for a loaded machine.
const START_TIMEOUT_MS = 15_000;
// It answers a closed stdin within one ppoll() wake-up; past this it is stuck.
const STOP_GRACE_MS = 3_000;

/** Turns offloads off on `device` in `ns` (`ethtool -K`). */
async function offloadsOff(ns: string, device: string): Promise<void> {
  const ethtool = tool("ethtool", "ethtool");
  const result = await runInNamespace(ns, [ethtool, "-K", device, ...OFFLOADS_OFF]);
  // ethtool exits 1 with "Could not change any device features" when all were off already.
  if (result.code !== 0 && !/Could not change any/.test(result.stderr)) {
    throw new Error(`ethtool -K ${device} in ${ns}: ${result.stderr.trim()}`);
  }
}

/** Collects a child's stdout lines; resolves `ready` at the first `{"event":"ready"}`. */
function watchLines(child: Deno.ChildProcess) {
  const lines: string[] = [];
  let onReady: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => onReady = resolve);
  const done = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('{"event":"ready"')) onReady!();
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  return { lines, ready, done, stderr };
}

/**
 * Builds the three namespaces, the veths with offloads off, and starts the delay line;
 * on any failure removes what it had built and rethrows.
 *
 * @throws {Error} a missing tool ("ethtool not found (apt-get install ethtool)"), a failed
 *   command, or "Cannot start the delay line: ..." with its stderr.
 */
export async function createWanPair(options: WanPairOptions = {}): Promise<WanPair> {
  tool("ip", "iproute2");
  tool("ethtool", "ethtool");
  const prefix = options.prefix ?? newBedPrefix();
  const mtu = options.mtu ?? 1500;
  const made: string[] = [];
  let child: Deno.ChildProcess | undefined;
  let watch: ReturnType<typeof watchLines> | undefined;
  let noReportReason: string | undefined;
  const stopLine = async () => {
    if (!child || !watch) return undefined;
    // Exited before we asked it to stop: a crash, not a slow stop.
    const early = await Promise.race([child.status, Promise.resolve(undefined)]);
    await child.stdin.close().catch(() => {});
    let killed = false;
    const timer = setTimeout(() => {
      try {
        child!.kill("SIGKILL");
        killed = true;
      } catch { /* gone */ }
    }, STOP_GRACE_MS);
    const status = await child.status;
    clearTimeout(timer);
    await watch.done.catch(() => {});
    const exit = watch.lines.find((line) => line.startsWith('{"event":"exit"'));
    if (exit) return JSON.parse(exit) as { ab: DirectionReport; ba: DirectionReport };
    const said = (await watch.stderr.catch(() => "")).trim().split("\n")[0];
    noReportReason = killed
      ? `it did not stop within ${STOP_GRACE_MS} ms of its stdin closing and was killed`
      : `it ${early ? "had exited" : "exited"} with code ${status.code}${said ? `: ${said}` : ""}`;
    return undefined;
  };
  const teardown = async () => {
    const report = await stopLine();
    await removeNamespaces(made);
    return report;
  };
  try {
    const [left, right] = (["left", "right"] as const).map((name, i): PairHost => ({
      name,
      ns: `${prefix}-${name}`,
      ip: `${SUBNET_PREFIX}.${i + 1}`,
      device: "eth0",
    }));
    const mid = `${prefix}-mid`;
    for (const ns of [left.ns, mid, right.ns]) {
      await addNamespace(ns);
      made.push(ns);
      await sysctlIn(ns, [...IPV6_OFF]);
    }
    for (const [host, end] of [[left, "a"], [right, "b"]] as const) {
      await ipBatch(host.ns, [
        `link add ${host.device} type veth peer name ${end} netns ${mid}`,
        `link set ${host.device} mtu ${mtu}`,
        `addr add ${host.ip}/24 dev ${host.device}`,
      ]);
      // The delay line binds to it up; the host's end stays down until the line is ready.
      await ipBatch(mid, [
        `link set dev ${end} mtu ${mtu}`,
        `link set dev ${end} promisc on`,
        `link set dev ${end} up`,
      ]);
      await offloadsOff(host.ns, host.device);
      await offloadsOff(mid, end);
    }
    const config: DelayLineConfig = { a: "a", b: "b", ab: options.ab ?? {}, ba: options.ba ?? {} };
    child = spawnInNamespace(
      mid,
      [Deno.execPath(), "run", "--no-prompt", "--allow-ffi", SCRIPT, JSON.stringify(config)],
      { stdin: "piped", env: { NO_COLOR: "1" } },
    );
    watch = watchLines(child);
    const started = watch;
    const timeout = new Promise<"timeout">((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS);
      started.ready.then(() => clearTimeout(timer));
      child!.status.then(() => clearTimeout(timer));
    });
    const outcome = await Promise.race([started.ready, child.status, timeout]);
    if (outcome !== undefined) {
      throw new Error(
        `Cannot start the delay line: ${outcome === "timeout" ? "no ready line" : "it exited"}` +
          `\n${outcome === "timeout" ? "" : await started.stderr}`,
      );
    }
    // Up only once the delay line listens, so no frame (ARP) is lost before it starts.
    await ipBatch(left.ns, [`link set ${left.device} up`]);
    await ipBatch(right.ns, [`link set ${right.device} up`]);
    let closing: ReturnType<typeof teardown> | undefined;
    return {
      left,
      right,
      mid,
      subnet: `${SUBNET_PREFIX}.0/24`,
      spawn: (host, cmd, o) => spawnInNamespace(host.ns, cmd, o),
      exec: (host, cmd, o) => runInNamespace(host.ns, cmd, o),
      freeUdpPort: udpPortFinder(),
      close: () => closing ??= teardown(),
      noReportReason: () => noReportReason,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}
