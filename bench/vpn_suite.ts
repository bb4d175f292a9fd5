import { canBuildBeds, createVethPair, sweepStaleBeds, type VethPair } from "../tests/netns/mod.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { runIperf3 } from "./iperf3.ts";
import { formatValue } from "./markdown_table.ts";
import { pingRtts } from "./ping_rtt.ts";
import { median, percentile } from "./stats.ts";

/** What the VPN suite hands a VPN it is about to measure. */
export interface VpnStartContext {
  /**
   * The two namespaces and the veth link between them (the underlay): `pair.left.ns`,
   * `pair.right.ip`, `pair.freeUdpPort(host)`, `pair.spawn(host, cmd)`. The VPN's
   * server side belongs in `pair.right` (the iperf3 server and ping target), its
   * client side in `pair.left`.
   */
  pair: VethPair;
  /** A /24 only this VPN uses, e.g. `10.77.2.0/24`: its tunnel addresses go there. */
  network: string;
  /** The tunnel CLI entry point (`deno task bench --tunnel-main`, default cli/main.ts). */
  mainModule: string;
}

/** A VPN started by {@link VpnUnderTest.start}; measured between its two addresses. */
export interface RunningVpn {
  /** Tunnel address of the left namespace (where the iperf3 client and ping run). */
  leftIp: string;
  /** Tunnel address of the right namespace (the iperf3 server binds it, ping targets it). */
  rightIp: string;
  /** Stops every process the VPN started; must be harmless to call twice. */
  stop(): Promise<void>;
}

/**
 * One row of the VPN table: a VPN the suite starts between the two namespaces. To add a
 * row, write one (e.g. `tunnel vpn server` in `pair.right`, `tunnel vpn client` in
 * `pair.left`) and pass it to {@link vpnSuite} in `suites.ts`.
 */
export interface VpnUnderTest {
  /** Row label, e.g. `wireguard-go`. */
  path: string;
  /**
   * Starts the VPN in `context.pair` and resolves once it is configured; the suite then
   * waits (10 s by default) until a ping crosses it. Whatever it started must be stopped by
   * the returned `stop()`, or by `pair.close()` (which kills every process in both
   * namespaces) if it throws.
   *
   * @throws {Error} any error: the row reads "unavailable: <first line of its message>".
   */
  start(context: VpnStartContext): Promise<RunningVpn>;
}

// Inside namespaces the suite created: nothing else listens there, so the default is free.
const IPERF_PORT = 5201;
// Each VPN gets 10.77.<i + 1>.0/24; 10.77.0.0/24 stays for the wireguard-go test fixture.
const NETWORK_BASE = "10.77";
/** How long a started VPN may take to carry its first ping (its handshake); past this it does not work. */
export const VPN_READY_TIMEOUT_MS = 10_000;

/** The /24 the `index`th VPN (from 0) of a suite puts its tunnel addresses in. */
export function vpnNetwork(index: number): string {
  return `${NETWORK_BASE}.${index + 1}.0/24`;
}

/** Options of {@link vpnSuite}. */
export interface VpnSuiteOptions {
  /** How long a started VPN may take to carry its first ping. Default 10,000 ms. */
  readyTimeoutMs?: number;
}
const PING_COUNT = 100;

interface Path {
  label: string;
  /** Address in the right namespace that the measurements target. */
  target: string;
  vpn?: RunningVpn;
}

/**
 * The VPN suite: between two network namespaces joined by a veth link, iperf3 TCP
 * throughput and ICMP round trip over the veth itself ("veth direct", the ceiling) and
 * through each VPN of `vpns`, with each VPN's added round trip over the veth's. Runs are
 * interleaved across paths like the loopback suites. Needs root; otherwise one row
 * says why it was skipped.
 *
 * @example
 * ```ts
 * export const SUITES = [..., vpnSuite([wireGuardGoVpn, tunnelVpn])];
 * ```
 */
export function vpnSuite(
  vpns: readonly VpnUnderTest[],
  suiteOptions: VpnSuiteOptions = {},
): BenchSuite {
  const readyTimeoutMs = suiteOptions.readyTimeoutMs ?? VPN_READY_TIMEOUT_MS;
  return {
    name: "vpn",
    description: `VPN between two namespaces: veth direct, ${
      vpns.map((v) => v.path).join(", ")
    } (iperf3 TCP MB/s, ping RTT)`,
    async run(env, options) {
      const table = `VPN between two network namespaces (iperf3 TCP ${options.durationSec} s, ` +
        `median of ${options.runs}; ping: ${PING_COUNT} ICMP echoes per run)`;
      const support = await canBuildBeds({ stun: false });
      if (!support.ok) {
        return [{ table, path: "(suite)", values: {}, note: `skipped: ${support.reason}` }];
      }
      await sweepStaleBeds();
      const pair = await createVethPair();
      env.onStop(() => pair.close());
      const paths: Path[] = [{ label: "veth direct", target: pair.right.ip }];
      const unavailable = new Map<string, string>();
      try {
        for (const [i, vpn] of vpns.entries()) {
          try {
            const running = await vpn.start({
              pair,
              network: vpnNetwork(i),
              mainModule: env.mainModule,
            });
            paths.push({ label: vpn.path, target: running.rightIp, vpn: running });
            env.onStop(() => running.stop());
            await waitForPing(pair.left.ns, running.rightIp, readyTimeoutMs);
          } catch (error) {
            unavailable.set(vpn.path, reasonOf(error));
            // A VPN that started but carries nothing is not measured.
            const index = paths.findIndex((path) => path.label === vpn.path);
            if (index >= 0) await paths.splice(index, 1)[0].vpn?.stop();
          }
        }
        return await measure(pair, paths, options, table, vpns, unavailable);
      } finally {
        for (const path of paths) await path.vpn?.stop().catch(() => {});
        await pair.close();
      }
    },
  };
}

async function measure(
  pair: VethPair,
  paths: Path[],
  options: { runs: number; durationSec: number },
  table: string,
  vpns: readonly VpnUnderTest[],
  unavailable: Map<string, string>,
): Promise<BenchRow[]> {
  const throughput = new Map(paths.map((path) => [path.label, [] as number[]]));
  const rtts = new Map(paths.map((path) => [path.label, [] as number[]]));
  const errors = new Map(paths.map((path) => [path.label, [] as string[]]));
  for (let run = 0; run < options.runs; run++) {
    for (const path of paths) {
      try {
        rtts.get(path.label)!.push(...await pingRtts(path.target, { ns: pair.left.ns }));
        const result = await runIperf3({
          serverPort: IPERF_PORT,
          clientPort: IPERF_PORT,
          durationSec: options.durationSec,
          hostname: path.target,
          namespaces: { server: pair.right.ns, client: pair.left.ns },
        });
        throughput.get(path.label)!.push(result.mbPerSec);
      } catch (error) {
        errors.get(path.label)!.push(reasonOf(error));
      }
    }
  }
  const veth = median(throughput.get("veth direct") ?? []);
  const vethRtt = median(rtts.get("veth direct") ?? []);
  const labels = ["veth direct", ...vpns.map((vpn) => vpn.path)];
  return labels.map((label): BenchRow => {
    const reason = unavailable.get(label);
    if (reason !== undefined) {
      return {
        table,
        path: label,
        values: {
          "MB/s": null,
          "vs veth": null,
          "ping median µs": null,
          "ping p99 µs": null,
          "added µs": null,
        },
        note: `unavailable: ${reason}`,
      };
    }
    const runs = throughput.get(label)!;
    const pings = rtts.get(label)!;
    const mbPerSec = runs.length > 0 ? median(runs) : null;
    const rtt = pings.length > 0 ? median(pings) : null;
    const failed = errors.get(label)!;
    return {
      table,
      path: label,
      values: {
        "MB/s": mbPerSec,
        "vs veth": mbPerSec !== null && veth > 0 ? mbPerSec / veth : null,
        "ping median µs": rtt,
        "ping p99 µs": pings.length > 0 ? percentile(pings, 99) : null,
        "added µs": rtt !== null && label !== "veth direct" ? rtt - vethRtt : null,
      },
      note: [
        runs.length > 0 ? `runs: ${runs.map(formatValue).join(" / ")}` : "",
        failed.length > 0 ? `${failed.length} failed: ${failed[0]}` : "",
      ].filter(Boolean).join("; "),
    };
  });
}

/**
 * Waits until `ip` answers a ping from namespace `ns`.
 *
 * @throws {Error} "no ping reply through <ip> within <timeoutMs> ms".
 */
export async function waitForPing(ns: string, ip: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  // Bounded by the deadline; each try waits at most 2 s (ping -W) for its reply.
  while (performance.now() < deadline) {
    try {
      await pingRtts(ip, { ns, count: 1 });
      return;
    } catch {
      // Not carrying packets yet; "unreachable" comes back at once, so pause.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`no ping reply through ${ip} within ${timeoutMs} ms`);
}
