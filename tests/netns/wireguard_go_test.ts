// wireguard-go between two namespaces: the fixture the VPN's interop tests build on.
// Pings and a checksummed TCP transfer cross the WireGuard addresses, after a handshake.
import assert from "node:assert/strict";
import { findTool } from "./command.ts";
import {
  canBuildBeds,
  createVethPair,
  startWireGuardGo,
  startWireGuardGoPair,
  sweepStaleBeds,
  wireGuardConfig,
  wireGuardKeyPair,
} from "./mod.ts";
import { startBedEcho, transferInBed } from "./tunnels_in_bed.ts";

const bedSupport = await canBuildBeds({ stun: false });
const missing = ["wireguard-go", "wg", "ping"].filter((name) => !findTool(name));
const reason = !bedSupport.ok
  ? bedSupport.reason
  : missing.length > 0
  ? `missing ${missing.join(", ")} (apt-get install wireguard-go wireguard-tools iputils-ping)`
  : "";
if (reason) console.log(`skipping wireguard-go tests: ${reason}`);
else await sweepStaleBeds();

// Large enough for many congestion windows through the tunnel, small enough for ~1 s.
const SIZE = 20_000_000;

Deno.test("wireGuardConfig() writes one interface and one peer, endpoint only when given", () => {
  const self = wireGuardKeyPair();
  const peer = wireGuardKeyPair();
  const options = {
    privateKey: self.privateKey,
    listenPort: 51820,
    address: "10.77.0.1/24",
    peer: { publicKey: peer.publicKey, allowedIps: ["10.77.0.2/32", "10.9.0.0/16"] },
  };
  const text = wireGuardConfig(options);
  assert.match(text, new RegExp(`^\\[Interface\\]\nPrivateKey = ${escape(self.privateKey)}\n`));
  assert.match(text, /\nListenPort = 51820\n/);
  assert.match(text, new RegExp(`\n\\[Peer\\]\nPublicKey = ${escape(peer.publicKey)}\n`));
  assert.match(text, /\nAllowedIPs = 10\.77\.0\.2\/32, 10\.9\.0\.0\/16\n/);
  assert.doesNotMatch(text, /Endpoint|PersistentKeepalive/);
  const full = wireGuardConfig({
    ...options,
    peer: { ...options.peer, endpoint: "192.0.2.2:51821", persistentKeepalive: 25 },
  });
  assert.match(full, /\nEndpoint = 192\.0\.2\.2:51821\n/);
  assert.match(full, /\nPersistentKeepalive = 25\n/);
});

Deno.test("wireGuardConfig() rejects malformed keys and a peer without allowed IPs", () => {
  const keys = wireGuardKeyPair();
  const good = {
    privateKey: keys.privateKey,
    listenPort: 1,
    address: "10.77.0.1/24",
    peer: { publicKey: keys.publicKey, allowedIps: ["10.77.0.2/32"] },
  };
  assert.throws(() => wireGuardConfig({ ...good, privateKey: "x" }), /Cannot read WireGuard key/);
  // A newline in a key would smuggle lines into the config.
  assert.throws(
    () => wireGuardConfig({ ...good, peer: { ...good.peer, publicKey: `${keys.publicKey}\n` } }),
    /Cannot read WireGuard key/,
  );
  assert.throws(
    () => wireGuardConfig({ ...good, peer: { ...good.peer, allowedIps: [] } }),
    /at least one allowed IP/,
  );
});

Deno.test({
  name: "wireguard-go in two namespaces carries ping and 20 MB of TCP after a handshake",
  ignore: reason !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const pair = await createVethPair();
    try {
      const before = new Date(Math.floor(Date.now() / 1_000) * 1_000);
      await using wg = await startWireGuardGoPair(pair);
      for (const [from, to] of [[wg.left, wg.right], [wg.right, wg.left]]) {
        // -W bounds the wait per reply; the first ping also carries the handshake.
        const ping = await pair.exec({ ns: from.ns }, [
          "ping",
          "-n",
          "-c",
          "3",
          "-i",
          "0.05",
          "-W",
          "2",
          to.ip,
        ]);
        assert.equal(ping.code, 0, `${from.ns} pings ${to.ip}: ${ping.stdout}${ping.stderr}`);
        assert.match(ping.stdout, / 0% packet loss/);
      }
      for (const end of [wg.left, wg.right]) {
        const at = await end.waitForHandshake({ timeoutMs: 2_000 });
        assert.ok(
          at >= before,
          `handshake at ${at.toISOString()}, started ${before.toISOString()}`,
        );
      }
      const echo = await startBedEcho(pair.right, { hostname: wg.right.ip });
      try {
        const ms = await transferInBed(pair.left, echo.port, SIZE, { hostname: wg.right.ip });
        console.log(`20 MB echoed through wireguard-go in ${ms.toFixed(0)} ms`);
      } finally {
        await echo.proc.stop();
      }
      // Both directions of the echo crossed the tunnel: counters include WireGuard's overhead.
      for (const end of [wg.left, wg.right]) {
        const { rxBytes, txBytes } = await end.transfer();
        assert.ok(rxBytes > SIZE && txBytes > SIZE, `${end.device}: rx ${rxBytes}, tx ${txBytes}`);
      }
      await wg.stop();
      const links = await pair.exec(pair.left, ["ip", "-o", "link"]);
      assert.doesNotMatch(links.stdout, new RegExp(`: ${wg.left.device}:`), "device removed");
      await assert.rejects(Deno.stat(`/var/run/wireguard/${wg.left.device}.sock`));
    } finally {
      await pair.close();
    }
  },
});

Deno.test({
  name: "startWireGuardGo() fails with wireguard-go's reason and stops it when the port is taken",
  ignore: reason !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const pair = await createVethPair();
    try {
      const port = await pair.freeUdpPort(pair.left);
      const peer = wireGuardKeyPair();
      const options = (address: string) => ({
        privateKey: wireGuardKeyPair().privateKey,
        listenPort: port,
        address,
        peer: { publicKey: peer.publicKey, allowedIps: ["10.77.0.9/32"] },
      });
      await using first = await startWireGuardGo(pair.left.ns, options("10.77.0.1/24"));
      await assert.rejects(
        startWireGuardGo(pair.left.ns, { ...options("10.77.1.1/24"), device: "wgclash0" }),
        /^Error: Cannot start wireguard-go in \S+: wg setconf: .*in use/s,
      );
      await assert.rejects(Deno.stat("/var/run/wireguard/wgclash0.sock"));
      const links = await pair.exec(pair.left, ["ip", "-o", "link"]);
      assert.doesNotMatch(links.stdout, /wgclash0/);
      assert.match(links.stdout, new RegExp(`: ${first.device}:`));
    } finally {
      await pair.close();
    }
  },
});

function escape(text: string): string {
  return text.replace(/[+/=]/g, (c) => `\\${c}`);
}
