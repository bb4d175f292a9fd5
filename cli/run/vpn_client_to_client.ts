/**
 * The VPN server's startup line about client-to-client traffic. The server
 * never passes a packet between two clients itself: it writes the packet to
 * its TUN device, and the host's kernel forwards it back out of the device, or
 * does not (forwarding off, or a FORWARD rule drops it).
 * @module
 */

/**
 * What the operator should know about client-to-client traffic, given whether
 * the kernel forwards packets arriving on `device` (undefined: unknown, as on
 * macOS).
 *
 * @example
 * ```ts
 * clientToClientLine("tun0", false);
 * // "Client to client: blocked, IP forwarding is off for tun0 (net.ipv4.ip_forward=0); …"
 * ```
 */
export function clientToClientLine(device: string, forwarding: boolean | undefined): string {
  if (forwarding === true) {
    return `Client to client: forwarded by this host's kernel (IP forwarding is on for ${device}), so its firewall decides: iptables FORWARD -i ${device} -o ${device}`;
  }
  if (forwarding === false) {
    return `Client to client: blocked, IP forwarding is off for ${device} (net.ipv4.ip_forward=0); clients reach this host only. To let them reach each other, turn it on; iptables FORWARD -i ${device} -o ${device} rules then apply`;
  }
  return `Client to client: forwarded by this host's kernel when IP forwarding is on, through its firewall`;
}
