/**
 * The I/O boundary on the system side of VPN mode: a virtual network interface
 * that carries whole IP packets. The WireGuard engine sees only this; Linux's
 * `/dev/net/tun`, macOS's utun and an in-memory fake implement it.
 * @module
 */

/** A TUN device: IP packets (no link header) in and out. */
export interface TunDevice {
  /** The interface's name as the system knows it (`tun0`, `utun7`). */
  readonly name: string;
  /** The interface's MTU: the largest packet it reads or writes. */
  readonly mtu: number;
  /**
   * The next packets the system routed into the interface, at least one, in
   * order; `null` once the device is closed. Batches keep the per-call cost
   * off the per-packet path.
   */
  read(): Promise<Uint8Array[] | null>;
  /** Hands packets to the system, as if they arrived on the interface. Drops them once closed. */
  write(packets: readonly Uint8Array[]): void;
  /** Removes the interface (and with it its addresses and routes). Safe to call more than once. */
  close(): Promise<void>;
}
