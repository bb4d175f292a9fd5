/**
 * Our WireGuard engine as a full VPN peer of wireguard-go: a real TUN device
 * (openTunDevice), WireGuardPeer + WireGuardLink over a plain UDP socket, and
 * the client's IpRouter between them (everything the device reads goes to the
 * one peer; non-IPv4 is dropped, so the kernel's own chatter never starts a
 * handshake). Run by wireguard_interop_test.ts inside a namespace with
 * `ip netns exec`.
 *
 * Prints one JSON line per event on stdout: `{"event":"ready","device":..,"port":..}`
 * once the device is up, and `{"event":"exit",...stats}` after SIGTERM, when the
 * device has been closed and the link stopped.
 *
 * deno run --unstable-net --allow-net --allow-ffi --allow-run=ip --allow-read=core/vpn/
 *   _wireguard_tun_peer.ts <private-b64> <peer-public-b64> <endpoint-ip:port>
 *   <listen-port> <address-cidr> <mtu>
 * @module
 */
import { IpRouter } from "../../core/vpn/mod.ts";
import { openTunDevice } from "../../core/vpn/device/mod.ts";
import { UdpPacketPath, WireGuardLink, WireGuardPeer } from "../../core/vpn/wireguard/mod.ts";

const [privateB64, peerB64, endpoint, listenPort, cidr, mtuText] = Deno.args;
const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));
const [endpointIp, endpointPort] = endpoint.split(":");
const [ip, prefixLength] = cidr.split("/");
const mtu = Number(mtuText);

const tun = await openTunDevice({
  name: "tun%d",
  mtu,
  address: { ip, prefixLength: Number(prefixLength) },
});
const router = new IpRouter(tun);
const peer = new WireGuardPeer({
  privateKey: fromB64(privateB64),
  peerPublicKey: fromB64(peerB64),
  mtu,
});
const path = new UdpPacketPath({
  port: Number(listenPort),
  remote: { hostname: endpointIp, port: Number(endpointPort) },
});
// Without `from`: wireguard-go's side may route whole networks to us, as a server does.
const link = new WireGuardLink(peer, path, { onPackets: (packets) => router.fromPeer(packets) });
router.setDefault(link);
const routing = router.run();
print({ event: "ready", device: tun.name, port: path.localAddr.port });

const stopped = Promise.withResolvers<void>();
Deno.addSignalListener("SIGTERM", () => stopped.resolve());
await Promise.race([stopped.promise, link.done]);
await tun.close();
await routing;
link.close();
await link.done;
print({ event: "exit", ...peer.stats, routerDrops: router.drops, strangers: path.strangers });
Deno.exit(0); // the SIGTERM listener would keep the process alive
