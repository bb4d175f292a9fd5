import { startClient } from "../tests/harness/mod.ts";
import { firstEcho } from "./first_echo.ts";
import { LOOPBACK_ICE, waitForDirect } from "./bench_environment.ts";
import { type BenchRow, type BenchSuite, reasonOf } from "./bench_suite.ts";
import { measureNostrStartup, type NostrStartup } from "./nostr_startup.ts";
import { median } from "./stats.ts";

// Fresh clients started only for this measurement (each costs a Deno start-up).
const CLIENTS = 3;

/**
 * Set-up cost of the tunnel: a fresh `tunnel client` from spawn to its ready line, and
 * from the first local connection to the first echoed byte (the QUIC stream and the
 * server's connection to the source); the same for nostr mode (its own relay fixture and
 * server, clients with loopback host candidates and no STUN). Also an example of a suite added through the
 * `SUITES` hook; a "manual-mode setup time" row would follow the same shape.
 */
export const tunnelStartup: BenchSuite = {
  name: "tunnel-startup",
  description:
    "tunnel client spawn-to-ready, first-byte and (relay then punched) time-to-direct, per path and for nostr mode (median of 3 fresh clients)",
  async run(env) {
    const table = `Tunnel set-up (median of ${CLIENTS} fresh clients)`;
    const values = (ready: number | null, firstByte: number | null, direct: number | null) => ({
      "ready ms": ready,
      "first byte ms": firstByte,
      "direct ms": direct,
    });
    const echoPort = env.echoPort();
    // nostr mode needs neither the iroh server nor `tunnel relay`: measured on its own.
    const nostr = nostrRows(
      table,
      await measureNostrStartup(echoPort, { clients: CLIENTS, mainModule: env.mainModule }),
    );
    let tunnel;
    try {
      tunnel = await env.tunnel();
    } catch (error) {
      return [{
        table,
        path: "tunnel client",
        values: values(null, null, null),
        note: `unavailable: ${reasonOf(error)}`,
      }, ...nostr];
    }
    // Each path's clients: spawn to ready, then first local byte echoed.
    const measure = async (
      via: { serverAddr?: string; extraArgs?: string[] },
      punch = false,
    ) => {
      const ready: number[] = [];
      const firstByte: number[] = [];
      const direct: number[] = [];
      const failures: string[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        try {
          await using client = await startClient({
            serverNodeId: tunnel.server.endpointId,
            ...via,
            source: `tcp://127.0.0.1:${echoPort}`,
            authToken: tunnel.token,
            mainModule: env.mainModule,
          });
          const readyAt = performance.now();
          ready.push(client.readyMs);
          firstByte.push(await firstEcho(client.localPort));
          if (punch) {
            await waitForDirect(client.lines);
            direct.push(client.readyMs + performance.now() - readyAt);
          }
        } catch (error) {
          failures.push(reasonOf(error));
        }
      }
      return { ready, firstByte, direct, failures };
    };
    const clientRow = (path: string, m: Awaited<ReturnType<typeof measure>>): BenchRow => ({
      table,
      path,
      values: values(
        m.ready.length ? median(m.ready) : null,
        m.firstByte.length ? median(m.firstByte) : null,
        m.direct.length ? median(m.direct) : null,
      ),
      note: m.failures.length ? `${m.failures.length} failed: ${m.failures[0]}` : "",
    });
    const direct = await measure({ serverAddr: tunnel.server.addr });
    const relayed = await measure({
      extraArgs: ["--relay-url", tunnel.relayUrl, "--relay-only"],
    });
    const punched = await measure(
      { extraArgs: ["--relay-url", tunnel.relayUrl, ...LOOPBACK_ICE] },
      true,
    );
    const server = env.tunnelTimings.find((timing) => timing.what === "server ready");
    const rows: BenchRow[] = [
      {
        table,
        path: "tunnel server",
        values: values(server?.ms ?? null, null, null),
        note: "spawn to ready, once",
      },
      clientRow("tunnel client", direct),
      clientRow("tunnel client via relay", relayed),
      clientRow("tunnel client, relay then punched", punched),
      ...nostr,
    ];
    return rows;
  },
};

/** The nostr server's row (spawn to ready, once) and the clients' (medians). */
function nostrRows(table: string, m: NostrStartup): BenchRow[] {
  const failed = m.failures.length ? `${m.failures.length} failed: ${m.failures[0]}` : "";
  const atMedian = (xs: number[]) => xs.length ? median(xs) : null;
  const spawnToByte = atMedian(m.spawnToFirstByte);
  return [
    {
      table,
      path: "tunnel server nostr",
      values: { "ready ms": m.serverReadyMs, "first byte ms": null, "direct ms": null },
      note: "spawn to ready, once",
    },
    {
      table,
      path: "tunnel client nostr",
      values: {
        "ready ms": atMedian(m.ready),
        "first byte ms": atMedian(m.firstByte),
        "direct ms": null,
      },
      note: [
        spawnToByte === null ? "" : `spawn to first byte ${spawnToByte.toFixed(0)} ms`,
        failed,
      ].filter(Boolean).join("; "),
    },
  ];
}
