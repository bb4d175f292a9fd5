// The fixture that runs our engine with a TUN device in a namespace: how it fails.
// Its success path is tests/netns/wireguard_interop_test.ts's TUN tests.
import assert from "node:assert/strict";
import { findTool } from "./command.ts";
import {
  canBuildBeds,
  createVethPair,
  startWireGuardGo,
  startWireGuardTunPeer,
  sweepStaleBeds,
  wireGuardKeyPair,
} from "./mod.ts";

const bedSupport = await canBuildBeds({ stun: false });
const missing = ["wireguard-go", "wg"].filter((name) => !findTool(name));
const reason = !bedSupport.ok
  ? bedSupport.reason
  : missing.length > 0
  ? `missing ${missing.join(", ")} (apt-get install wireguard-go wireguard-tools)`
  : !(() => {
      try {
        return Deno.statSync("/dev/net/tun").isCharDevice;
      } catch {
        return false;
      }
    })()
  ? "no /dev/net/tun"
  : "";
if (reason) console.log(`skipping our WireGuard peer fixture tests: ${reason}`);
else await sweepStaleBeds();

Deno.test({
  name: "startWireGuardTunPeer() on a taken UDP port fails naming the namespace, leaving no device",
  ignore: reason !== "",
  fn: async () => {
    const pair = await createVethPair();
    try {
      const port = await pair.freeUdpPort(pair.left);
      const ours = wireGuardKeyPair();
      // wireguard-go holds the port our peer is told to bind.
      await using _holder = await startWireGuardGo(pair.left.ns, {
        privateKey: wireGuardKeyPair().privateKey,
        listenPort: port,
        address: "10.66.1.1/24",
        peer: { publicKey: ours.publicKey, allowedIps: ["10.66.1.2/32"] },
      });
      await assert.rejects(
        startWireGuardTunPeer(pair.left.ns, {
          privateKey: ours.privateKey,
          listenPort: port,
          address: "10.66.0.2/24",
          peer: { publicKey: wireGuardKeyPair().publicKey, endpoint: `${pair.right.ip}:51820` },
        }),
        new RegExp(`^Error: Cannot start our WireGuard peer in ${pair.left.ns}: .*AddrInUse`, "s"),
      );
      const links = await pair.exec(pair.left, ["ip", "-o", "link", "show", "type", "tun"]);
      assert.doesNotMatch(links.stdout, /: tun\d+:/);
    } finally {
      await pair.close();
    }
  },
});

Deno.test("startWireGuardTunPeer() rejects a key that is not base64 of 32 bytes", async () => {
  await assert.rejects(
    startWireGuardTunPeer("unused", {
      privateKey: "not a key",
      listenPort: 51820,
      address: "10.66.0.2/24",
      peer: { publicKey: wireGuardKeyPair().publicKey, endpoint: "192.0.2.2:51820" },
    }),
    /^TypeError: Cannot read WireGuard key/,
  );
});
