/**
 * Interoperability of core/vpn's WireGuard engine with wireguard-go: two
 * namespaces joined by a veth pair, wireguard-go in one, our engine over a
 * plain UDP socket in the other.
 *
 * - Without a device: our engine answers as 10.9.0.2 itself. Our side pings
 *   first (we initiate the handshake, wireguard-go's kernel answers through
 *   it), then `ping` runs on the wireguard-go side and our engine answers each
 *   echo request.
 * - With a real TUN device (`_wireguard_tun_peer.ts`, 10.66.0.2 against
 *   wireguard-go's 10.66.0.1): pings and checksummed 20 MB TCP transfers in
 *   both directions, once with each side starting the handshake; the device is
 *   gone after SIGTERM. iperf3 TCP throughput from our side is printed.
 *
 * Needs root, iproute2, wireguard-go and wireguard-tools
 * (`apt-get install wireguard-go wireguard-tools`), /dev/net/tun for the TUN
 * tests, iperf3 for the printed figure.
 * @module
 */
import assert from "node:assert/strict";
import { findTool, mustRun, run } from "./command.ts";
import { addNamespace, newBedPrefix, removeNamespaces } from "./namespaces.ts";
import { canBuildBeds } from "./preflight.ts";
import { generatePrivateKey, publicKeyOf } from "../../core/vpn/wireguard/mod.ts";
import { runIperf3 } from "../../bench/iperf3.ts";
import { sweepStaleBeds } from "./namespaces.ts";
import { startBedEcho, transferInBed } from "./tunnels_in_bed.ts";
import { createVethPair, type PairHost, type VethPair } from "./veth_pair.ts";
import { startWireGuardGo } from "./wireguard_go.ts";
import { wireGuardKeyPair } from "./wireguard_keys.ts";
import { startWireGuardTunPeer } from "./wireguard_tun_peer.ts";

const support = await canBuildBeds({ stun: false });
const missing = ["wireguard-go", "wg"].filter((name) => !findTool(name));
const reason = !support.ok
  ? support.reason
  : missing.length > 0
  ? `${missing.join(", ")} not found (apt-get install wireguard-go wireguard-tools)`
  : undefined;
if (reason) console.log(`skipping WireGuard interop: ${reason}`);

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

Deno.test({
  name: "our WireGuard engine initiates to wireguard-go, and pings cross both ways",
  ignore: reason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => interop(true),
});

Deno.test({
  name: "wireguard-go initiates to our WireGuard engine, which answers its pings",
  ignore: reason !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => interop(false),
});

async function interop(weInitiate: boolean): Promise<void> {
  {
    const prefix = newBedPrefix();
    const nsWg = `${prefix}-wg`;
    const nsJs = `${prefix}-js`;
    const dir = await Deno.makeTempDir({ prefix: `${prefix}-` });
    const children: Deno.ChildProcess[] = [];
    try {
      await addNamespace(nsWg);
      await addNamespace(nsJs);
      await mustRun([
        "ip",
        "link",
        "add",
        "veth0",
        "netns",
        nsWg,
        "type",
        "veth",
        "peer",
        "name",
        "veth1",
        "netns",
        nsJs,
      ]);
      await mustRun(["ip", "-n", nsWg, "addr", "add", "192.0.2.1/24", "dev", "veth0"]);
      await mustRun(["ip", "-n", nsJs, "addr", "add", "192.0.2.2/24", "dev", "veth1"]);
      await mustRun(["ip", "-n", nsWg, "link", "set", "veth0", "up"]);
      await mustRun(["ip", "-n", nsJs, "link", "set", "veth1", "up"]);

      const wgKey = generatePrivateKey();
      const ourKey = generatePrivateKey();
      await Deno.writeTextFile(`${dir}/wg.key`, b64(wgKey));
      const wireguardGo = new Deno.Command("ip", {
        args: ["netns", "exec", nsWg, "wireguard-go", "-f", "wg0"],
        stdout: "null",
        stderr: "null",
      }).spawn();
      children.push(wireguardGo);
      for (let i = 0; (await run(["ip", "-n", nsWg, "link", "show", "wg0"])).code !== 0; i++) {
        assert.ok(i < 50, "wireguard-go did not create wg0 within 5 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await mustRun([
        "ip",
        "netns",
        "exec",
        nsWg,
        "wg",
        "set",
        "wg0",
        "private-key",
        `${dir}/wg.key`,
        "listen-port",
        "51820",
        "peer",
        b64(publicKeyOf(ourKey)),
        "allowed-ips",
        "10.9.0.2/32",
        "endpoint",
        "192.0.2.2:51821",
      ]);
      await mustRun(["ip", "-n", nsWg, "addr", "add", "10.9.0.1/24", "dev", "wg0"]);
      await mustRun(["ip", "-n", nsWg, "link", "set", "wg0", "up"]);

      const script = new URL("./_wireguard_interop_peer.ts", import.meta.url).pathname;
      const ours = new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          nsJs,
          Deno.execPath(),
          "run",
          "-A",
          "--unstable-net",
          script,
          b64(ourKey),
          b64(publicKeyOf(wgKey)),
          "192.0.2.1",
          "51820",
          "51821",
          "10.9.0.2",
          weInitiate ? "10.9.0.1" : "-",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.push(ours);
      const events: Record<string, unknown>[] = [];
      const lines = ours.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let buffered = "";
      const waitFor = async (event: string, count: number, ms: number) => {
        const until = Date.now() + ms;
        while (events.filter((e) => e.event === event).length < count) {
          const remaining = until - Date.now();
          assert.ok(
            remaining > 0,
            `no ${count} "${event}" events within ${ms} ms: ${JSON.stringify(events)}`,
          );
          let timer: ReturnType<typeof setTimeout> | undefined;
          const chunk = await Promise.race([
            lines.read(),
            new Promise<undefined>((resolve) =>
              timer = setTimeout(() => resolve(undefined), remaining)
            ),
          ]);
          clearTimeout(timer);
          if (chunk === undefined) continue;
          assert.ok(!chunk.done, `our peer exited: ${JSON.stringify(events)}`);
          buffered += chunk.value;
          const parts = buffered.split("\n");
          buffered = parts.pop()!;
          for (const part of parts) if (part.trim()) events.push(JSON.parse(part));
        }
      };

      await waitFor("ready", 1, 20_000);
      if (weInitiate) {
        // Our echo request crosses, wireguard-go's kernel answers through the tunnel.
        await waitFor("echo-reply", 1, 20_000);
        assert.ok((events.find((e) => e.event === "echo-reply")!.handshakes as number) >= 1);
      }

      // wireguard-go's side pings us; our engine decrypts each request and answers it.
      const ping = await run([
        "ip",
        "netns",
        "exec",
        nsWg,
        "ping",
        "-c",
        "3",
        "-i",
        "0.3",
        "-W",
        "3",
        "10.9.0.2",
      ], {
        timeoutMs: 15_000,
      });
      // On failure, the peer's stats tell which side dropped what.
      if (ping.code !== 0) await waitFor("stats", 2, 3_000).catch(() => {});
      assert.equal(
        ping.code,
        0,
        `ping from wireguard-go's side failed:\n${ping.stdout}${ping.stderr}\n${
          JSON.stringify(events)
        }`,
      );
      await waitFor("echo-request", 3, 5_000);

      const show = await mustRun([
        "ip",
        "netns",
        "exec",
        nsWg,
        "wg",
        "show",
        "wg0",
        "latest-handshakes",
      ]);
      const latest = Number(show.trim().split(/\s+/)[1]);
      assert.ok(latest > 0, `wg show reports no handshake: ${show}`);
      console.log(`wg show wg0 latest-handshakes: ${show.trim()}`);
      console.log(`ping from wireguard-go's side:\n${ping.stdout.trim()}`);
      lines.releaseLock();
    } finally {
      for (const child of children) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      for (const child of children) await child.status.catch(() => {});
      await removeNamespaces([nsWg, nsJs]);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

// 10.66.0.0/24 is used by no other test, so a leftover route of a crashed run cannot interfere.
const OUR_ADDRESS = "10.66.0.2/24";
const WG_ADDRESS = "10.66.0.1/24";
// A 1500-byte veth minus WireGuard's worst-case overhead, as wireguard-go defaults to.
const TUN_MTU = 1420;
// Thousands of full-size packets and many congestion windows, yet both directions in
// both tests take only a few seconds.
const TRANSFER_BYTES = 20_000_000;
// Long enough for a steady rate past TCP's slow start, short enough for the test's budget.
const IPERF_SECONDS = 3;
// Inside namespaces this test created: nothing else listens there.
const IPERF_PORT = 5201;
const tunSupport = (() => {
  try {
    return Deno.statSync("/dev/net/tun").isCharDevice;
  } catch {
    return false;
  }
})();
const tunReason = reason ?? (tunSupport ? undefined : "no /dev/net/tun");
if (tunReason && !reason) console.log(`skipping WireGuard interop over TUN: ${tunReason}`);

Deno.test({
  name: "our engine on a TUN device initiates to wireguard-go: pings and 20 MB transfers both ways",
  ignore: tunReason !== undefined,
  fn: () => tunInterop("ours"),
});

Deno.test({
  name: "wireguard-go initiates to our engine on a TUN device: pings and 20 MB transfers both ways",
  ignore: tunReason !== undefined,
  fn: () => tunInterop("wireguard-go"),
});

async function tunInterop(initiator: "ours" | "wireguard-go"): Promise<void> {
  await sweepStaleBeds();
  const pair = await createVethPair();
  try {
    const ourKeys = wireGuardKeyPair();
    const wgKeys = wireGuardKeyPair();
    const ourPort = await pair.freeUdpPort(pair.left);
    // wireguard-go knows our endpoint, so that it can start the handshake itself.
    await using wg = await startWireGuardGo(pair.right.ns, {
      privateKey: wgKeys.privateKey,
      listenPort: await pair.freeUdpPort(pair.right),
      address: WG_ADDRESS,
      mtu: TUN_MTU,
      peer: {
        publicKey: ourKeys.publicKey,
        endpoint: `${pair.left.ip}:${ourPort}`,
        allowedIps: [`${OUR_ADDRESS.split("/")[0]}/32`],
      },
    });
    await using ours = await startWireGuardTunPeer(pair.left.ns, {
      privateKey: ourKeys.privateKey,
      listenPort: ourPort,
      address: OUR_ADDRESS,
      mtu: TUN_MTU,
      peer: { publicKey: wg.publicKey, endpoint: `${pair.right.ip}:${wg.listenPort}` },
    });
    assert.match(await tunLinks(pair.left), new RegExp(`${ours.device}.*mtu ${TUN_MTU}`));
    const a = { host: pair.left, ip: ours.ip };
    const b = { host: pair.right, ip: wg.ip };
    // The first packet starts the handshake: the initiator's side pings first.
    const [first, second] = initiator === "ours" ? [a, b] : [b, a];
    await pingAcross(pair, first.host, second.ip);
    await pingAcross(pair, second.host, first.ip);
    assert.ok(await wg.latestHandshake(), "wireguard-go reports no handshake");

    for (const [client, server] of [[a, b], [b, a]]) {
      const echo = await startBedEcho(server.host, { hostname: server.ip });
      try {
        const ms = await transferInBed(client.host, echo.port, TRANSFER_BYTES, {
          hostname: server.ip,
        });
        console.log(
          `${client.host.name} -> ${server.host.name}: ${TRANSFER_BYTES / 1e6} MB echoed, ` +
            `digests equal, ${Math.round(ms)} ms (${
              (2 * TRANSFER_BYTES / 1e3 / ms).toFixed(1)
            } MB/s through the tunnel, both ways together)`,
        );
      } finally {
        await echo.proc.stop();
      }
    }

    // Printed, not asserted: how fast our engine and device are without QUIC in the way.
    if (initiator === "ours" && !findTool("iperf3")) console.log("iperf3 not found: no figure");
    else if (initiator === "ours") {
      for (const [client, server] of [[a, b], [b, a]]) {
        const iperf = await runIperf3({
          serverPort: IPERF_PORT,
          clientPort: IPERF_PORT,
          durationSec: IPERF_SECONDS,
          hostname: server.ip,
          namespaces: { server: server.host.ns, client: client.host.ns },
        });
        console.log(
          `iperf3 TCP ${IPERF_SECONDS} s ${client.host.name} -> ${server.host.name} ` +
            `(our engine + TUN on the left, wireguard-go on the right): ` +
            `${iperf.mbPerSec.toFixed(1)} MB/s`,
        );
      }
    }

    const { code, stats } = await ours.stop();
    assert.equal(code, 0, `our peer exited with ${code}: ${ours.process.stderrText()}`);
    assert.equal(await tunLinks(pair.left), "", "the TUN device outlived its process");
    assert.ok(stats, `our peer printed no counters: ${ours.process.lines().join("\n")}`);
    if (initiator === "ours") assert.ok(stats.initiationsSent >= 1, JSON.stringify(stats));
    else assert.equal(stats.initiationsSent, 0, JSON.stringify(stats));
    assert.ok(stats.handshakes >= 1, JSON.stringify(stats));
    console.log(
      `our side: ${stats.handshakes} handshake(s), ${stats.initiationsSent} initiation(s) sent, ` +
        `${stats.packetsSent} packets sent, ${stats.packetsReceived} received, dropped ${
          JSON.stringify(stats.dropped)
        }, router drops ${JSON.stringify(stats.routerDrops)}`,
    );
  } finally {
    await pair.close();
  }
}

async function pingAcross(pair: VethPair, from: PairHost, to: string): Promise<void> {
  const ping = await pair.exec(from, ["ping", "-c", "3", "-i", "0.2", "-W", "3", to], {
    timeoutMs: 15_000,
  });
  assert.equal(ping.code, 0, `ping ${from.name} -> ${to} failed:\n${ping.stdout}${ping.stderr}`);
  assert.match(ping.stdout, / 3 received/);
}

async function tunLinks(host: PairHost): Promise<string> {
  return (await mustRun(["ip", "-n", host.ns, "-o", "link", "show", "type", "tun"])).trim();
}
