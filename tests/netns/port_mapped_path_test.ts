/**
 * iroh mode across two symmetric NATs (`MASQUERADE --random-fully`), where
 * neither plain ICE nor birthday punching finds a path: with Debian's
 * miniupnpd on the server's router, the server maps its listener's UDP port,
 * publishes the mapped address, and the client goes direct to it from the
 * start (SSH-sized transfer checked, `tunnel status` names the mapping, the
 * mapping is deleted when the server stops); without miniupnpd the session
 * stays on the relay. The server runs with forwarding permissions only, so
 * its gateway is the LAN's usual router address (`ip` may not be run).
 * Prints RESULT lines for docs/NAT_MATRIX.md.
 * @module
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { runCommand, tunnelCommandArgs } from "../harness/mod.ts";
import {
  BED_PKARR_URL,
  BED_RELAY_URL,
  inNamespace,
  spawnIn,
  startBedEcho,
  startBedRelay,
  startBedServer,
  transferInBed,
} from "./tunnels_in_bed.ts";
import { canRunMiniUpnpd, createBed, type MiniUpnpd, startMiniUpnpd } from "./mod.ts";

const support = await canRunMiniUpnpd();
if (!support.ok) console.log(`skipping port-mapped paths: ${support.reason}`);

const SERVER_STATUS = "127.0.0.1:7071";
const MAPPED_LINE = /^Port mapping: 198\.51\.100\.20:(\d+) -> UDP port \d+ \(([^,]+),/;

for (const mapped of [true, false]) {
  Deno.test({
    name: `iroh mode, symmetric x symmetric, ${
      mapped
        ? "miniupnpd on the server's router: direct to the mapped port"
        : "no port mapping: relay"
    }`,
    ignore: !support.ok,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const bed = await createBed({ left: "symmetric", right: "symmetric" });
      const dir = await Deno.makeTempDir({ prefix: "mapped-path-" });
      const cleanups: (() => Promise<unknown>)[] = [
        () => bed.close(),
        () => Deno.remove(dir, { recursive: true }),
      ];
      try {
        let daemon: MiniUpnpd | undefined;
        if (mapped) {
          daemon = await startMiniUpnpd({
            routerNs: bed.right.routerNs,
            wanIp: bed.right.wanIp,
            lan: "10.0.2.0/24",
            protocols: { upnp: true, natPmp: true, pcp: true },
            stun: { host: bed.publicHost.ips[0], alternate: bed.publicHost.ips[1], port: 3478 },
            dir,
          });
          cleanups.push(() => daemon!.stop());
        }
        // coturn has 198.51.100.1:3478, so the relay answers no STUN of its own.
        const relay = await startBedRelay(bed, ["--no-stun"]);
        cleanups.push(() => relay.stop());
        const echo = await startBedEcho(bed.right);
        cleanups.push(() => echo.proc.stop());
        const token = generateToken();
        const server = await startBedServer(bed.right, token, [
          "-v",
          "--status",
          SERVER_STATUS,
          "--stun-server",
          `${bed.publicHost.ips[0]}:3478`,
        ]);
        cleanups.push(() => server.proc.stop());
        const stdout = () => server.proc.lines("stdout");
        let mappedPort = "";
        let protocol = "";
        if (mapped) {
          // The mapping is made in the background: the record carries it once it is there.
          const line = await server.proc.waitForLine(MAPPED_LINE, {
            stream: "stdout",
            timeoutMs: 15_000,
          });
          [, mappedPort, protocol] = MAPPED_LINE.exec(line)!;
          assert.match(await daemon!.natRules(), new RegExp(`--dport ${mappedPort}\\b`));
          // The record is published again with it: a PUT to the bed's relay, milliseconds.
          await new Promise((r) => setTimeout(r, 1_000));
        } else {
          // Nothing answers at 10.0.2.1: the attempt ends, said at debug level.
          await server.proc.waitForLine(/no port mapping/, { stream: "stderr", timeoutMs: 15_000 });
          assert.ok(!stdout().some((l) => l.startsWith("Port mapping:")), stdout().join("\n"));
        }
        const started = performance.now();
        const client = spawnIn(bed.left.ns, [
          Deno.execPath(),
          ...tunnelCommandArgs([
            "client",
            "--server-node-id",
            server.id,
            // With the relay given too, the relay would win the race to the first path:
            // a session on the relay does not yet move to the mapped address.
            ...(mapped ? ["--no-relay"] : ["--relay-url", BED_RELAY_URL]),
            "--dns-server",
            BED_PKARR_URL,
            "--stun-server",
            `${bed.publicHost.ips[0]}:3478`,
            "--source",
            `tcp://127.0.0.1:${echo.port}`,
            "--target",
            "127.0.0.1:0",
            "--auth-token",
            token,
            "-v",
          ]),
        ]);
        cleanups.push(() => client.stop());
        const ready = await client.waitForLine(/^Tunnel ready: 127\.0\.0\.1:\d+/, {
          stream: "stdout",
          timeoutMs: 30_000,
        });
        const localPort = Number(/:(\d+) ->/.exec(ready)![1]);
        const lines = () => client.lines("stdout");
        let toDirectMs: number | undefined;
        if (mapped) {
          const direct = new RegExp(`^path: direct 198\\.51\\.100\\.20:${mappedPort}\\b`);
          const deadline = performance.now() + 10_000;
          while (!lines().some((l) => direct.test(l))) {
            assert.ok(performance.now() < deadline, lines().join("\n"));
            await new Promise((r) => setTimeout(r, 50));
          }
          toDirectMs = performance.now() - started;
        } else {
          await new Promise((r) => setTimeout(r, 6_000));
          assert.ok(!lines().some((l) => l.startsWith("path: direct")), lines().join("\n"));
        }
        const transferMs = await transferInBed(bed.left, localPort, 20_000_000);
        const status = await runCommand("ip", {
          args: inNamespace(bed.right.ns, [
            Deno.execPath(),
            ...tunnelCommandArgs(["status", SERVER_STATUS]),
          ]),
          timeoutMs: 20_000,
        });
        if (mapped) {
          assert.match(
            status.stdout,
            new RegExp(`port mapping: 198\\.51\\.100\\.20:${mappedPort} `),
          );
          assert.match(
            status.stdout,
            new RegExp(`path: direct 198\\.51\\.100\\.20:${mappedPort} \\(port-mapped\\)`),
          );
        } else {
          assert.doesNotMatch(status.stdout, /port mapping/);
          assert.match(status.stdout, /path: relay /);
        }
        console.log(
          `RESULT | symmetric x symmetric | ${
            mapped ? `direct (port-mapped by the server's router, ${protocol})` : "relay"
          } | ${toDirectMs ? `direct ${toDirectMs.toFixed(0)} ms` : "—"} | 20 MB ${
            transferMs.toFixed(0)
          } ms`,
        );
        if (daemon) {
          // A clean stop deletes the mapping at the router.
          await server.proc.stop();
          assert.doesNotMatch(await daemon.natRules(), new RegExp(`--dport ${mappedPort}\\b`));
        }
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      }
    },
  });
}
