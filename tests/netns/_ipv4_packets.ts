/**
 * Just enough IPv4 for the TUN tests: the Internet checksum, an ICMP echo
 * reply made from a request, and a UDP packet to load the device with.
 * @module
 */

/** RFC 1071 one's-complement sum of `bytes`, folded and inverted. */
export function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The echo reply to an IPv4 ICMP echo request, or undefined for any other packet. */
export function echoReply(request: Uint8Array): Uint8Array | undefined {
  if (request.length < 28 || request[0] >> 4 !== 4 || request[9] !== 1) return undefined;
  const headerLength = (request[0] & 0x0f) * 4;
  if (request[headerLength] !== 8) return undefined; // not an echo request
  const reply = request.slice();
  const view = new DataView(reply.buffer);
  reply.set(request.subarray(16, 20), 12); // source <- destination
  reply.set(request.subarray(12, 16), 16);
  view.setUint16(10, 0);
  view.setUint16(10, internetChecksum(reply.subarray(0, headerLength)));
  reply[headerLength] = 0; // echo reply
  view.setUint16(headerLength + 2, 0);
  view.setUint16(headerLength + 2, internetChecksum(reply.subarray(headerLength)));
  return reply;
}

/** An IPv4 UDP packet of `size` bytes in all (UDP checksum 0: optional in IPv4). */
export function udpPacket(source: number[], destination: number[], size: number): Uint8Array {
  const packet = new Uint8Array(size);
  const view = new DataView(packet.buffer);
  packet[0] = 0x45;
  view.setUint16(2, size);
  packet[8] = 64; // TTL
  packet[9] = 17; // UDP
  packet.set(source, 12);
  packet.set(destination, 16);
  view.setUint16(10, internetChecksum(packet.subarray(0, 20)));
  view.setUint16(20, 40000);
  view.setUint16(22, 9); // discard
  view.setUint16(24, size - 20);
  return packet;
}
