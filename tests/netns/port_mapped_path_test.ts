/**
 * iroh mode across two symmetric NATs (`MASQUERADE --random-fully`), where
 * neither plain ICE nor birthday punching finds a path, with Debian's
 * miniupnpd on one router:
 * - on the server's router, a client that looks the record up goes straight
 *   to the listener's mapped address, beating the relay (`tunnel status` marks
 *   that path, and the mapping is deleted when the server stops); a client
 *   that knows only the relay starts there and its hole punching goes direct
 *   through the server's mapped ICE port;
 * - on the client's router, the client's mapped ICE port does it;
 * - on neither, the session stays on the relay.
 * Tunnel processes run with forwarding permissions only, so the router they
 * ask is the LAN's usual router address (`ip` may not be run). Each case moves
 * 20 MB checked by SHA-256 and prints a RESULT line for docs/NAT_MATRIX.md.
 * @module
 */
import assert from "node:assert/strict";
import { generateToken } from "../../core/auth/mod.ts";
import { runCommand, tunnelCommandArgs } from "../harness/mod.ts";
import {
  inNamespace,
  startBedClient,
  startBedEcho,
  startBedRelay,
  startBedServer,
  transferInBed,
} from "./tunnels_in_bed.ts";
import {
  type Bed,
  type BedHost,
  canRunMiniUpnpd,
  createBed,
  type MiniUpnpd,
  startMiniUpnpd,
} from "./mod.ts";

const support = await canRunMiniUpnpd();
if (!support.ok) console.log(`skipping port-mapped paths: ${support.reason}`);

const SERVER_STATUS = "127.0.0.1:7071";
const MAPPED_LINE = /^Port mapping: 198\.51\.100\.20:(\d+) -> UDP port \d+ \(([^,]+),/;

interface Case {
  name: string;
  /** Whose router runs miniupnpd. */
  mapper: "server" | "client" | "none";
  /**
   * The client looks the server's record up (and races its addresses against
   * the relay); without it the client knows only the relay, starts there and
   * then punches.
   */
  lookup: boolean;
  /** The client's path line after connecting. */
  expect: RegExp;
}

const CASES: Case[] = [
  {
    name: "the server's router maps; a client knowing only the relay starts there, then punches",
    mapper: "server",
    lookup: false,
    expect: /^path: direct 198\.51\.100\.20:\d+ \(port-mapped\), rtt/,
  },
  {
    name: "the server's router maps; the record's mapped address beats the relay from the start",
    mapper: "server",
    lookup: true,
    expect: /^path: direct 198\.51\.100\.20:(\d+), rtt/,
  },
  {
    name: "the client's router maps; the client starts on the relay, then punches",
    mapper: "client",
    lookup: true,
    expect: /^path: direct 198\.51\.100\.20:\d+ \(port-mapped\), rtt/,
  },
  {
    name: "no router maps: the relay",
    mapper: "none",
    lookup: true,
    expect: /^path: relay /,
  },
];

function startDaemon(bed: Bed, host: BedHost, dir: string): Promise<MiniUpnpd> {
  return startMiniUpnpd({
    routerNs: host.routerNs,
    wanIp: host.wanIp,
    lan: host === bed.left ? "10.0.1.0/24" : "10.0.2.0/24",
    protocols: { upnp: true, natPmp: true, pcp: true },
    stun: { host: bed.publicHost.ips[0], alternate: bed.publicHost.ips[1], port: 3478 },
    dir,
  });
}

for (const c of CASES) {
  Deno.test({
    name: `iroh mode, symmetric x symmetric: ${c.name}`,
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
        if (c.mapper !== "none") {
          daemon = await startDaemon(bed, c.mapper === "server" ? bed.right : bed.left, dir);
          cleanups.push(() => daemon!.stop());
        }
        // coturn has 198.51.100.1:3478, so the relay answers no STUN of its own.
        const relay = await startBedRelay(bed, ["--no-stun"]);
        cleanups.push(() => relay.stop());
        const echo = await startBedEcho(bed.right);
        cleanups.push(() => echo.proc.stop());
        const token = generateToken();
        const stun = `${bed.publicHost.ips[0]}:3478`;
        const server = await startBedServer(bed.right, token, [
          "-v",
          "--status",
          SERVER_STATUS,
          "--stun-server",
          stun,
        ]);
        cleanups.push(() => server.proc.stop());
        const stdout = () => server.proc.lines("stdout");
        let listenerPort = "";
        let protocol = "";
        if (c.mapper === "server") {
          // The listener is mapped in the background; the record carries it once it is there.
          const line = await server.proc.waitForLine(MAPPED_LINE, {
            stream: "stdout",
            timeoutMs: 15_000,
          });
          [, listenerPort, protocol] = MAPPED_LINE.exec(line)!;
          assert.match(await daemon!.natRules(), new RegExp(`--dport ${listenerPort}\\b`));
          // The record is published again with it: a PUT to the bed's relay, milliseconds.
          await new Promise((r) => setTimeout(r, 1_000));
        } else {
          // Nothing answers at 10.0.2.1: the attempt ends, said at debug level.
          await server.proc.waitForLine(/no port mapping/, { stream: "stderr", timeoutMs: 15_000 });
          assert.ok(!stdout().some((l) => l.startsWith("Port mapping:")), stdout().join("\n"));
        }
        const { proc: client, localPort, spawnedAt: started } = await startBedClient(bed.left, {
          serverId: server.id,
          token,
          source: `tcp://127.0.0.1:${echo.port}`,
          lookup: c.lookup,
          extraArgs: ["--stun-server", stun, "-v"],
        });
        cleanups.push(() => client.stop());
        const lines = () => client.lines("stdout");
        const direct = c.mapper !== "none";
        let toDirectMs: number | undefined;
        if (direct) {
          const deadline = performance.now() + 15_000;
          while (!lines().some((l) => c.expect.test(l))) {
            assert.ok(performance.now() < deadline, lines().join("\n"));
            await new Promise((r) => setTimeout(r, 50));
          }
          toDirectMs = performance.now() - started;
          if (c.mapper === "server" && c.lookup) {
            const port = lines().map((l) => c.expect.exec(l)?.[1]).find((p) => p);
            assert.equal(port, listenerPort, "the record's mapped address");
          }
        } else {
          await new Promise((r) => setTimeout(r, 8_000));
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
        if (c.mapper === "server") {
          assert.match(
            status.stdout,
            new RegExp(`port mapping: 198\\.51\\.100\\.20:${listenerPort} `),
          );
        } else {
          assert.doesNotMatch(status.stdout, /port mapping/);
        }
        assert.match(
          status.stdout,
          !direct
            ? /path: relay /
            : !(c.mapper === "server" && c.lookup)
            ? /path: direct \S+ \(port-mapped\)/
            : new RegExp(`path: direct 198\\.51\\.100\\.20:${listenerPort} \\(port-mapped\\)`),
          status.stdout,
        );
        console.log(
          `RESULT | symmetric x symmetric | ${
            direct
              ? `direct (port-mapped by the ${c.mapper}'s router${
                c.mapper === "server" && c.lookup ? ", record" : ", punched"
              })`
              : "relay"
          } | ${toDirectMs ? `direct ${toDirectMs.toFixed(0)} ms` : "—"} | 20 MB ${
            transferMs.toFixed(0)
          } ms`,
        );
        if (c.mapper === "server" && c.lookup) {
          // A clean stop deletes the listener's mapping at the router.
          await server.proc.stop();
          assert.doesNotMatch(await daemon!.natRules(), new RegExp(`--dport ${listenerPort}\\b`));
        }
        if (protocol) assert.match(protocol, /^(PCP|NAT-PMP|UPnP IGD)$/);
      } finally {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      }
    },
  });
}
