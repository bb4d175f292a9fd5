/**
 * The WAN VPN table (`deno task bench --only wan-vpn`, issue 20): the VPN suite's VPNs
 * (`tunnel vpn`, wireguard-go, ...) started across a WAN pair instead of a bare veth
 * pair (a `WanPair` serves as a `VethPair`), and iperf3 TCP, one stream, from the left to the
 * right namespace through each, beside `direct` (iperf3 to the right host's own address,
 * no VPN). Cases: RTT 20 and 80 ms, and 80 ms with 0.5% loss on the data direction
 * (`wan_cases.ts`). One WAN pair per case, runs interleaved, medians, the receiver's
 * slowest second and seconds at 0 B, and the delay line's counters, as the WAN table.
 * @module
 */
import type { VethPair } from "../tests/netns/mod.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import type { BenchOptions, BenchSuite } from "./bench_suite.ts";
import { startPaths } from "./path_runs.ts";
import { onWanPair, runWanTable, type WanCaseResult } from "./wan_case_run.ts";
import { selectWanCases, type WanCase } from "./wan_cases.ts";
import { WAN_IPERF_PORT } from "./wan_paths.ts";
import {
  caseRows,
  runTcpPaths,
  summaryRow,
  type WanTcpLayout,
  type WanTcpRun,
} from "./wan_suite.ts";
import {
  type RunningVpn,
  VPN_READY_TIMEOUT_MS,
  vpnNetwork,
  type VpnUnderTest,
  waitForPing,
} from "./vpn_suite.ts";

/** The cases of the WAN VPN table, in table order. */
export const WAN_VPN_CASES: readonly WanCase[] = selectWanCases(["rtt20", "rtt80", "loss0.5"]);

/** The row without a VPN. */
const DIRECT = "direct";

/**
 * The table's layout for `vpns`: `direct` first, then each VPN; the "vs" column compares
 * with the first VPN (the reference implementation, wireguard-go in `suites.ts`).
 *
 * @throws {RangeError} when `vpns` is empty or a VPN is named `direct`.
 */
export function wanVpnLayout(vpns: readonly VpnUnderTest[]): WanTcpLayout<string> {
  if (vpns.length === 0) throw new RangeError("Cannot lay out the WAN VPN table: no VPN");
  if (vpns.some((vpn) => vpn.path === DIRECT)) {
    throw new RangeError(`Cannot lay out the WAN VPN table: a VPN is named ${DIRECT}`);
  }
  return {
    label: "WAN VPN",
    paths: [DIRECT, ...vpns.map((vpn) => vpn.path)],
    reference: vpns[0].path,
    summaryTitle: (options) =>
      `WAN VPN: iperf3 TCP MB/s (one stream) through each VPN across the delay line, MTU 1500 ` +
      `(median of ${options.runs}, iperf3 -t ${options.durationSec})`,
  };
}

async function measureCase(
  env: BenchEnvironment,
  wanCase: WanCase,
  options: BenchOptions,
  vpns: readonly VpnUnderTest[],
  layout: WanTcpLayout<string>,
): Promise<WanCaseResult<string, WanTcpRun>> {
  const { measured, line, lineSilence } = await onWanPair(env, wanCase, async (wan) => {
    // A WanPair is a VethPair but for close(), which also returns the line's counters.
    const pair: VethPair = { ...wan, close: async () => void await wan.close() };
    const running: RunningVpn[] = [];
    const stopAll = async () => {
      for (const vpn of running) await vpn.stop().catch(() => {});
    };
    env.onStop(stopAll);
    try {
      const { started, unavailable } = await startPaths(layout.paths, async (path) => {
        if (path === DIRECT) {
          return { server: wan.right.ip, dial: { hostname: wan.right.ip, port: WAN_IPERF_PORT } };
        }
        const index = vpns.findIndex((vpn) => vpn.path === path);
        const vpn = await vpns[index].start({
          pair,
          network: vpnNetwork(index),
          mainModule: env.mainModule,
        });
        running.push(vpn);
        // A VPN that started but carries nothing is unavailable; stopAll() stops it.
        await waitForPing(wan.left.ns, vpn.rightIp, VPN_READY_TIMEOUT_MS);
        return { server: vpn.rightIp, dial: { hostname: vpn.rightIp, port: WAN_IPERF_PORT } };
      });
      return { runs: await runTcpPaths(wan, wanCase, options, started, "wan-vpn"), unavailable };
    } finally {
      await stopAll();
    }
  });
  return { wanCase, ...measured, line, lineSilence };
}

/**
 * The WAN VPN suite for `vpns` (see the module documentation).
 *
 * @example
 * ```ts ignore
 * export const SUITES = [..., wanVpnSuite([wireGuardGoVpn, tunnelVpn])];
 * ```
 */
export function wanVpnSuite(vpns: readonly VpnUnderTest[]): BenchSuite {
  const layout = wanVpnLayout(vpns);
  return {
    name: "wan-vpn",
    description: `iperf3 TCP through VPNs across an emulated WAN (delay, loss): ${
      layout.paths.join(", ")
    }`,
    run(env, options) {
      return runWanTable({
        summaryTitle: layout.summaryTitle(options),
        cases: WAN_VPN_CASES,
        paths: layout.paths,
        measureCase: (wanCase) => measureCase(env, wanCase, options, vpns, layout),
        summaryRow: (result) => summaryRow(result, layout, options),
        caseRows: (result) => caseRows(result, layout),
      });
    },
  };
}
