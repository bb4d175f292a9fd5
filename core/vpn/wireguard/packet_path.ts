/**
 * The I/O boundary on the network side of VPN mode: a way to exchange WireGuard
 * messages with one peer. The peer connection's datagrams, a plain UDP socket
 * (for interoperability with other WireGuard implementations) and an in-memory
 * fake implement it.
 * @module
 */

/** Carries WireGuard messages to and from one peer, unreliably and unordered. */
export interface PacketPath {
  /**
   * Sends messages, best effort. A path whose datagrams are smaller than a
   * message carries it some other way or drops it; it never throws.
   */
  send(messages: readonly Uint8Array[]): void;
  /** The next messages from the peer, at least one; `null` once the path is closed. */
  receive(): Promise<Uint8Array[] | null>;
  /** Closes the path. Safe to call more than once. */
  close(): void;
}
