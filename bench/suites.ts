import type { BenchSuite } from "./bench_suite.ts";
import { tcpRtt } from "./tcp_rtt.ts";
import { tcpParallel, tcpThroughput } from "./tcp_throughput.ts";
import { tunnelStartup } from "./tunnel_startup.ts";
import { udpRate } from "./udp_rate.ts";
import { udpThroughput } from "./udp_throughput.ts";
import { manualSetup } from "./manual_setup.ts";
import { vpnSuite } from "./vpn_suite.ts";
import { tunnelVpn } from "./tunnel_vpn.ts";
import { wireGuardEngineVpn } from "./wireguard_engine_vpn.ts";
import { wireGuardGoVpn } from "./wireguard_go_vpn.ts";
import { wanSuite } from "./wan_suite.ts";
import { wanUdpSuite } from "./wan_udp_suite.ts";
import { wanVpnSuite } from "./wan_vpn_suite.ts";
import { natPathSuite } from "./nat_path_suite.ts";
import { relayRecords } from "./relay_records.ts";
import { dhtSuite } from "./dht_suite.ts";
import { torSuite } from "./tor_suite.ts";

/**
 * Every suite `bench.ts` runs, in order. This list is the hook for more rows: write a
 * `BenchSuite` in its own file (e.g. a manual-mode setup time) and append it here.
 */
export const SUITES: readonly BenchSuite[] = [
  tcpThroughput,
  tcpParallel,
  tcpRtt,
  udpThroughput,
  udpRate,
  tunnelStartup,
  manualSetup,
  vpnSuite([wireGuardGoVpn, tunnelVpn, wireGuardEngineVpn]),
  wanSuite,
  wanUdpSuite,
  wanVpnSuite([wireGuardGoVpn, tunnelVpn]),
  natPathSuite,
  relayRecords,
  dhtSuite,
  torSuite,
];
