/**
 * Time to direct and throughput per method in the NAT bed (`deno task bench --only nat-paths`,
 * issue 23 item 5). For each row of `nat_path_cases.ts` the suite builds the bed of
 * `tests/netns` (two hosts behind NAT routers of the row's kinds, coturn on the public host,
 * `tunnel relay` there, miniupnpd on the server's router for the port-mapped row), then, per
 * run, starts a fresh server on the right host and a client on the left that knows only the
 * relay (`--no-dns`: it starts there and punches) once the server's listener mapping attempt
 * is over, times client spawn to its `path: direct` line, and runs iperf3 TCP through the
 * tunnel. Needs root; otherwise every row says why.
 * @module
 */
import { generateToken } from "../core/auth/mod.ts";
import {
  type Bed,
  canBuildBeds,
  canRunMiniUpnpd,
  createBed,
  startMiniUpnpd,
  sweepStaleBeds,
} from "../tests/netns/mod.ts";
import { startBedClient, startBedRelay, startBedServer } from "../tests/netns/tunnels_in_bed.ts";
import type { BenchEnvironment } from "./bench_environment.ts";
import { type BenchOptions, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { runIperf3 } from "./iperf3.ts";
import {
  boundedRuns,
  NAT_PATH_CASES,
  type NatPathCase,
  type NatPathResult,
  natPathRows,
  type NatPathRun,
  pathOfLine,
} from "./nat_path_cases.ts";

// Inside namespaces the suite created: nothing else listens there.
const IPERF_PORT = 5201;
/**
 * A run whose client has no direct path this long after spawn fails. Birthday punching
 * starts after ICE's 3 s and a missed punch is retried later, so this leaves room for one
 * retry.
 */
export const DIRECT_TIMEOUT_MS = 30_000;
/** No new run of a row starts once this much time has gone into the row's runs. */
export const ROW_BUDGET_MS = 180_000;
/** How long the server's listener mapping may take to be granted, or found unavailable. */
const MAPPING_TIMEOUT_MS = 15_000;

/** `--stun-server` flags: coturn on the public host's first address, and its second. */
function stunArgs(bed: Bed, two: boolean): string[] {
  const ips = two ? bed.publicHost.ips.slice(0, 2) : bed.publicHost.ips.slice(0, 1);
  return ips.flatMap((ip) => ["--stun-server", `${ip}:3478`]);
}

/** One fresh server and client in `bed`: time to direct, then iperf3 through the tunnel. */
async function runOnce(
  bed: Bed,
  c: NatPathCase,
  env: BenchEnvironment,
  options: BenchOptions,
): Promise<NatPathRun> {
  const token = generateToken();
  const stun = stunArgs(bed, c.twoStun);
  const mainModule = env.mainModule;
  const server = await startBedServer(bed.right, token, [...stun, "-v"], { mainModule });
  try {
    // Like a server that has been running: its listener's mapping attempt is over, so it
    // knows whether its router maps, and its punching attempts wait on no silent router.
    await server.proc.waitForLine(
      (line, stream) =>
        stream === "stdout" ? /^Port mapping: /.test(line) : !c.serverRouterMaps &&
          /no port mapping/.test(line),
      { timeoutMs: MAPPING_TIMEOUT_MS },
    );
    const client = await startBedClient(bed.left, {
      serverId: server.id,
      token,
      source: `tcp://127.0.0.1:${IPERF_PORT}`,
      lookup: false,
      extraArgs: stun,
      mainModule,
    });
    try {
      let toDirectMs: number | null = null;
      if (c.accepts.length > 0) {
        await client.proc.waitForLine((line) => {
          const path = pathOfLine(line);
          return path !== null && path !== "relay";
        }, { stream: "stdout", timeoutMs: DIRECT_TIMEOUT_MS });
        toDirectMs = performance.now() - client.spawnedAt;
      }
      const iperf = await runIperf3({
        serverPort: IPERF_PORT,
        clientPort: client.localPort,
        durationSec: options.durationSec,
        hostname: "127.0.0.1",
        namespaces: { server: bed.right.ns, client: bed.left.ns },
      });
      const last = client.proc.lines("stdout").map(pathOfLine).filter((p) => p !== null).at(-1);
      return { toDirectMs, path: last ?? "none", mbPerSec: iperf.mbPerSec };
    } finally {
      await client.proc.stop();
    }
  } finally {
    await server.proc.stop();
  }
}

/** Builds the row's bed, makes its runs, takes the bed down. */
async function measureCase(
  c: NatPathCase,
  env: BenchEnvironment,
  options: BenchOptions,
): Promise<NatPathResult> {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const bed = await createBed({ left: c.left, right: c.right });
    cleanups.push(() => bed.close());
    // Ctrl-C: bed.close() kills everything in its namespaces.
    env.onStop(() => bed.close());
    if (c.serverRouterMaps) {
      const dir = await Deno.makeTempDir({ prefix: "bench-nat-paths-" });
      cleanups.push(() => Deno.remove(dir, { recursive: true }));
      const daemon = await startMiniUpnpd({
        routerNs: bed.right.routerNs,
        wanIp: bed.right.wanIp,
        lan: "10.0.2.0/24",
        protocols: { upnp: true, natPmp: true, pcp: true },
        stun: { host: bed.publicHost.ips[0], alternate: bed.publicHost.ips[1], port: 3478 },
        dir,
      });
      cleanups.push(() => daemon.stop());
    }
    // coturn answers STUN on 198.51.100.1:3478, where the relay's own would be.
    const relay = await startBedRelay(bed, ["--no-stun"], { mainModule: env.mainModule });
    cleanups.push(() => relay.stop());
    const attempts = await boundedRuns(options.runs, ROW_BUDGET_MS, async () => {
      console.error(`[bench] nat-paths: ${c.label}`);
      return await runOnce(bed, c, env, options);
    });
    return { case: c, attempts };
  } catch (error) {
    return { case: c, attempts: [], unavailable: reasonOf(error) };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

/** The NAT-path suite: see the module documentation. */
export const natPathSuite: BenchSuite = {
  name: "nat-paths",
  description: "NAT bed: client start to direct path and iperf3 TCP MB/s per method " +
    "(host, server-reflexive, birthday, port-mapped; relay as the reference)",
  async run(env, options) {
    const table = `NAT bed: time to direct and throughput per method (fresh server and ` +
      `client per run, the client starts on the relay and punches; median of ${options.runs}, ` +
      `iperf3 TCP -t ${options.durationSec} through the tunnel)`;
    const support = await canBuildBeds();
    if (!support.ok) {
      return natPathRows(
        table,
        NAT_PATH_CASES.map((c) => ({ case: c, attempts: [], unavailable: support.reason })),
      );
    }
    await sweepStaleBeds();
    const mapper = await canRunMiniUpnpd();
    const results: NatPathResult[] = [];
    for (const c of NAT_PATH_CASES) {
      if (c.serverRouterMaps && !mapper.ok) {
        results.push({ case: c, attempts: [], unavailable: mapper.reason });
      } else results.push(await measureCase(c, env, options));
    }
    return natPathRows(table, results);
  },
};
