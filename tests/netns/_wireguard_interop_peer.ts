/**
 * Our WireGuard engine as a peer of wireguard-go, without a TUN device: it
 * answers ICMP echo requests addressed to it inside the tunnel, and pings the
 * other end once a second until it gets a reply (unless the last argument is
 * "-": then it only answers, and wireguard-go initiates). Prints one JSON line per
 * event on stdout. Run by wireguard_interop_test.ts inside a namespace.
 *
 * deno run -A --unstable-net _wireguard_interop_peer.ts <private-b64> <peer-public-b64>
 *   <endpoint-ip> <endpoint-port> <listen-port> <our-tunnel-ip> <their-tunnel-ip>
 * @module
 */
import { UdpPacketPath, WireGuardLink, WireGuardPeer } from "../../core/vpn/wireguard/mod.ts";

const [privateB64, peerB64, endpointIp, endpointPort, listenPort, ourIp, theirIp] = Deno.args;
const fromB64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const ipBytes = (text: string) => new Uint8Array(text.split(".").map(Number));
const print = (event: Record<string, unknown>) => console.log(JSON.stringify(event));

const peer = new WireGuardPeer({
  privateKey: fromB64(privateB64),
  peerPublicKey: fromB64(peerB64),
});
const path = new UdpPacketPath({
  port: Number(listenPort),
  remote: { hostname: endpointIp, port: Number(endpointPort) },
});
let replied = false;
const link = new WireGuardLink(peer, path, {
  onPackets(packets) {
    for (const packet of packets) {
      if (packet[0] >> 4 !== 4 || packet[9] !== 1) {
        print({ event: "other-packet", length: packet.length });
        continue;
      }
      const headerLength = (packet[0] & 0x0f) * 4;
      const type = packet[headerLength];
      const from = Array.from(packet.subarray(12, 16)).join(".");
      if (type === 8) {
        print({
          event: "echo-request",
          from,
          length: packet.length,
          handshakes: peer.stats.handshakes,
        });
        link.send([echoReply(packet, headerLength)]);
      } else if (type === 0) {
        replied = true;
        print({
          event: "echo-reply",
          from,
          to: Array.from(packet.subarray(16, 20)).join("."),
          id: (packet[headerLength + 4] << 8) | packet[headerLength + 5],
          seq: packet[headerLength + 7],
          handshakes: peer.stats.handshakes,
        });
      }
    }
  },
});
print({ event: "ready", port: path.localAddr.port });

for (let seq = 1; theirIp !== "-" && !replied && seq <= 30; seq++) {
  link.send([echoRequest(ipBytes(ourIp), ipBytes(theirIp), seq)]);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
}
// Stats once a second, for a test's failure message.
const statsTimer = setInterval(() => print({ event: "stats", ...peer.stats }), 1_000);
await link.done;
clearInterval(statsTimer);

function echoRequest(source: Uint8Array, destination: Uint8Array, seq: number): Uint8Array {
  const packet = new Uint8Array(20 + 8 + 32);
  packet.set([0x45, 0, 0, packet.length, 0, seq, 0x40, 0, 64, 1]);
  packet.set(source, 12);
  packet.set(destination, 16);
  setChecksum(packet, 0, 20, 10);
  packet.set([8, 0, 0, 0, 0x12, 0x34, 0, seq], 20);
  for (let i = 28; i < packet.length; i++) packet[i] = i;
  setChecksum(packet, 20, packet.length, 22);
  return packet;
}

// Swapping the addresses leaves the IP checksum as it is; the ICMP type changes.
function echoReply(request: Uint8Array, headerLength: number): Uint8Array {
  const reply = request.slice();
  reply.set(request.subarray(16, 20), 12);
  reply.set(request.subarray(12, 16), 16);
  reply[headerLength] = 0;
  setChecksum(reply, headerLength, reply.length, headerLength + 2);
  return reply;
}

function setChecksum(bytes: Uint8Array, start: number, end: number, at: number): void {
  bytes[at] = bytes[at + 1] = 0;
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (bytes[i] << 8) | (i + 1 < end ? bytes[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const checksum = ~sum & 0xffff;
  bytes[at] = checksum >> 8;
  bytes[at + 1] = checksum & 0xff;
}
