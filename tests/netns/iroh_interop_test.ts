/**
 * Interop: two endpoints of the official iroh JS bindings (npm `@number0/iroh` 1.1.0,
 * iroh 1.0.2 inside) reach each other through `tunnel relay` and nothing else. Both sit
 * behind symmetric NATs whose routers also drop every forwarded UDP packet, and the relay
 * is their only relay (no discovery), so the only way between them is the relay's
 * WebSocket over TCP. 1 MB goes each way and must arrive intact; the connection must not
 * have used a direct path, and the relay's /metrics must show the bytes it carried.
 */
import assert from "node:assert/strict";
import { ManagedProcess, tunnelCommandArgs } from "../harness/mod.ts";
import { tool } from "./command.ts";
import { type Bed, type BedHost, canBuildBeds, createBed, sweepStaleBeds } from "./mod.ts";

const support = await canBuildBeds({ stun: false });
const skip = !support.ok
  ? support.reason
  // deno.test.json pins the bindings' linux-x64-gnu binary (see _iroh_bindings.ts for why).
  : Deno.build.arch !== "x86_64"
  ? "the iroh bindings are pinned for linux-x86_64 only"
  : undefined;
if (skip) console.log(`skipping iroh interop: ${skip}`);
else await sweepStaleBeds();

const PEER = new URL("./_iroh_peer.ts", import.meta.url).pathname;
// The tests' configuration: the bindings are a test-only package, absent from deno.json.
const TEST_CONFIG = new URL("../../deno.test.json", import.meta.url).pathname;
// iroh's port for a relay in development (plain HTTP), as `tunnel relay` defaults to.
const RELAY_PORT = 3340;
const SIZE = 1_000_000;

/** `deno run` of the iroh peer fixture: N-API needs --allow-ffi, which is all it asks. */
function peerCommand(args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--config",
    TEST_CONFIG,
    "--allow-ffi",
    "--allow-env=IROH_PEER_LOG",
    PEER,
    ...args,
  ];
}

/** Every UDP packet through either router dies: no direct path, whatever iroh tries. */
async function dropForwardedUdp(bed: Bed): Promise<void> {
  for (const host of [bed.left, bed.right]) {
    const result = await bed.exec({ ns: host.routerNs }, [
      tool("iptables", "iptables"),
      "-w",
      "5",
      "-I",
      "FORWARD",
      "1",
      "-p",
      "udp",
      "-j",
      "DROP",
    ]);
    assert.equal(result.code, 0, result.stderr);
  }
}

/** Packets the UDP drop rule of `host`'s router has caught. */
async function droppedUdp(bed: Bed, host: BedHost): Promise<number> {
  const { stdout } = await bed.exec({ ns: host.routerNs }, [
    tool("iptables", "iptables"),
    "-w",
    "5",
    "-L",
    "FORWARD",
    "1",
    "-v",
    "-n",
    "-x",
  ]);
  return Number(stdout.trim().split(/\s+/)[0]);
}

interface PeerReport {
  self: string;
  remote: string;
  incomingVia?: string;
  sent?: string;
  received: string;
  bytes: number;
  ms: number;
  paths: { kind: string; addr: string; selected: boolean; rx: number }[];
}

function lastJson(lines: string[]): PeerReport {
  const line = lines.findLast((l) => l.startsWith("{"));
  assert.ok(line, `no report in:\n${lines.join("\n")}`);
  return JSON.parse(line);
}

function assertRelayedOnly(report: PeerReport, relayUrl: string): void {
  const direct = report.paths.filter((p) => p.kind !== "relay" && (p.selected || p.rx > 0));
  assert.deepEqual(direct, [], `a direct path carried data: ${JSON.stringify(report.paths)}`);
  assert.ok(
    report.paths.some((p) => p.kind === "relay" && p.addr === relayUrl && p.selected),
    `the relay path was never selected: ${JSON.stringify(report.paths)}`,
  );
}

/** Reads one counter from the Prometheus text of the relay's /metrics. */
function counter(metrics: string, name: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} missing from /metrics:\n${metrics}`);
  return Number(line.slice(name.length + 1));
}

Deno.test({
  name: "iroh endpoints (official JS bindings) connect and exchange 1 MB through tunnel relay only",
  ignore: skip !== undefined,
  fn: async () => {
    const bed = await createBed({ left: "symmetric", right: "symmetric", stun: false });
    try {
      await dropForwardedUdp(bed);
      const relayAddr = `${bed.publicHost.ips[0]}:${RELAY_PORT}`;
      const relayUrl = `http://${relayAddr}/`;
      await using relay = ManagedProcess.spawn(tool("ip", "iproute2"), {
        args: [
          "netns",
          "exec",
          bed.publicHost.ns,
          Deno.execPath(),
          ...tunnelCommandArgs(["relay", "--bind", relayAddr, "--no-stun", "-v"]),
        ],
      });
      await relay.waitForLine("Relay ready", { timeoutMs: 30_000 });

      await using acceptor = ManagedProcess.spawn(tool("ip", "iproute2"), {
        args: ["netns", "exec", bed.right.ns, ...peerCommand(["accept", relayUrl])],
      });
      const endpointId = (await acceptor.waitForLine(/^endpoint [0-9a-f]{64}$/, {
        timeoutMs: 30_000,
      })).slice("endpoint ".length);

      const dial = await bed.exec(
        bed.left,
        peerCommand(["connect", relayUrl, endpointId, String(SIZE)]),
        { timeoutMs: 50_000 },
      );
      assert.equal(dial.code, 0, `dialer failed (${dial.signal ?? dial.code}):\n${dial.stderr}`);
      const dialer = lastJson(dial.stdout.split("\n"));
      await acceptor.waitForLine((line) => line.startsWith("{"), { timeoutMs: 15_000 });
      const accepted = lastJson(acceptor.lines());

      assert.equal(dialer.bytes, SIZE);
      assert.equal(dialer.received, dialer.sent, "the echo differs from what was sent");
      assert.equal(accepted.received, dialer.sent, "the acceptor got other bytes");
      assert.equal(dialer.remote, endpointId);
      assert.equal(accepted.remote, dialer.self);
      assert.equal(accepted.incomingVia, "relay");
      assertRelayedOnly(dialer, relayUrl);
      assertRelayedOnly(accepted, relayUrl);

      const scrape = await bed.exec("public", [
        Deno.execPath(),
        "eval",
        `console.log(await (await fetch("${relayUrl}metrics")).text())`,
      ]);
      assert.equal(scrape.code, 0, scrape.stderr);
      const forwarded = counter(scrape.stdout, "tunnel_relay_datagrams_forwarded_total");
      const bytes = counter(scrape.stdout, "tunnel_relay_bytes_forwarded_total");
      assert.ok(forwarded > 0, "the relay forwarded no datagram");
      assert.equal(counter(scrape.stdout, 'tunnel_relay_refusals_total{reason="protocol"}'), 0);
      // iroh 1.0 offers iroh-relay-v2 first; every session must have settled on it.
      const joins = relay.lines("stderr").filter((l) => / connected \(v\d\)$/.test(l));
      assert.ok(joins.length >= 2 && joins.every((l) => l.endsWith("(v2)")), relay.stderrText());
      // The payload crossed twice (there and back), inside QUIC packets.
      assert.ok(bytes >= 2 * SIZE, `the relay forwarded only ${bytes} bytes`);
      const dropped = [await droppedUdp(bed, bed.left), await droppedUdp(bed, bed.right)];
      console.log(
        `1 MB echoed in ${dialer.ms.toFixed(0)} ms; relay forwarded ${forwarded} datagrams ` +
          `(${bytes} bytes); UDP dropped by the routers: ${dropped.join(" + ")} packets`,
      );
    } finally {
      await bed.close();
    }
  },
});
