/**
 * What one session has moved and holds open, read live by a status view. The
 * forwarding loops add to it as they go (one addition per chunk or datagram).
 * @module
 */

/** Live counters of one session. */
export class SessionStats {
  /** Bytes sent to the peer (local TCP and UDP data into the tunnel). */
  sent = 0;
  /** Bytes received from the peer. */
  received = 0;
  /** TCP connections forwarded now. */
  tcpConnections = 0;
  #udpFlows: () => number = () => 0;

  /** UDP flows open now. */
  get udpFlows(): number {
    return this.#udpFlows();
  }

  /** Tells where the number of open UDP flows is read from (the session's flow table). */
  countUdpFlows(source: () => number): void {
    this.#udpFlows = source;
  }
}
